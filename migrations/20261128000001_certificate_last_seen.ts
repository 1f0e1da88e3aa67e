import type { Knex } from 'knex';

/**
 * The last certificate seen per mapping (docs/concepts.md, "Expiry"): written at most once per client per minute,
 * off the request's critical path; read by `certbound certs expiring` and the last-seen notAfter gauge.
 * `mapping_key` is the mapping id, or `self-signed` for self_signed_tls_client_auth clients (no mapping).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('certificate_last_seen', (t) => {
    t.string('client_id', 255).notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
    t.string('mapping_key', 64).notNullable();
    t.string('mapping_id', 36).nullable().references('id').inTable('certificate_mappings').onDelete('CASCADE');
    t.string('x5t_s256', 64).notNullable();
    t.text('subject').notNullable();
    t.bigInteger('not_after').notNullable();
    t.bigInteger('seen_at').notNullable();
    t.primary(['client_id', 'mapping_key']);
    t.index(['not_after']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('certificate_last_seen');
}
