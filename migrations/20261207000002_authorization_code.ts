import type { Knex } from 'knex';

/**
 * The authorization code flow: the upstream OpenID Provider end users sign in at (one per server; the
 * client secret or private key certbound authenticates to it with); the consents end users gave, per
 * user and client; and, on the oidc-provider payload rows, the client, the user and the certificate
 * thumbprint a refresh token is bound to (RFC 8705 §4, PUB-3), so that an administrator can list and
 * revoke them without parsing every payload.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('upstream_providers', (t) => {
    t.string('name', 64).primary();
    t.string('issuer', 2048).notNullable();
    t.string('client_id', 255).notNullable();
    t.string('auth_method', 32).notNullable();
    t.text('client_secret').nullable();
    t.text('private_jwk').nullable();
    t.text('scope').notNullable().defaultTo('openid');
    t.string('subject_claim', 255).notNullable().defaultTo('sub');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('user_consents', (t) => {
    t.string('account_id', 255).notNullable();
    t.string('client_id', 255).notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
    t.text('scope').notNullable().defaultTo('');
    t.text('resources').notNullable().defaultTo('[]');
    t.bigInteger('granted_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.primary(['account_id', 'client_id']);
    t.index(['client_id']);
  });
  await knex.schema.alterTable('oidc_payloads', (t) => {
    t.string('client_id', 255).nullable();
    t.string('account_id', 255).nullable();
    t.string('x5t_s256', 64).nullable();
    t.index(['model', 'client_id']);
    t.index(['model', 'account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_payloads', (t) => {
    t.dropIndex(['model', 'client_id']);
    t.dropIndex(['model', 'account_id']);
    t.dropColumn('client_id');
    t.dropColumn('account_id');
    t.dropColumn('x5t_s256');
  });
  await knex.schema.dropTable('user_consents');
  await knex.schema.dropTable('upstream_providers');
}
