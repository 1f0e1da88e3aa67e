import type { Knex } from 'knex';

/**
 * RFC 7662 §4: the clients a resource server introspects its tokens as (space-separated client ids).
 * Besides the token's own client, only these may read a token of that audience at the introspection
 * endpoint; null or empty: none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('resource_servers', (t) => {
    t.text('introspection_clients').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('resource_servers', (t) => {
    t.dropColumn('introspection_clients');
  });
}
