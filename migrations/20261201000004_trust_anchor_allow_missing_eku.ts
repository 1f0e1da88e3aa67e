import type { Knex } from 'knex';

/**
 * H15-4: a client certificate must state clientAuth in its Extended Key Usage. A legacy PKI that issues
 * certificates with no EKU extension at all can be allowed per trust anchor (`certbound trust add
 * --allow-no-eku`); existing anchors keep the strict default.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('trust_anchors', (t) => {
    t.boolean('allow_missing_eku').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('trust_anchors', (t) => {
    t.dropColumn('allow_missing_eku');
  });
}
