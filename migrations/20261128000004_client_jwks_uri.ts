import type { Knex } from 'knex';

/**
 * SS-1/SS-4: a self_signed_tls_client_auth client may publish its certificates at a `jwks_uri`
 * (RFC 7591) instead of registering them: the server fetches them (src/outbound/jwks-uri-cache.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.text('jwks_uri').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('jwks_uri');
  });
}
