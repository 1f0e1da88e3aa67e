import type { Knex } from 'knex';

/**
 * Dynamic client registration (RFC 7591/7592): the initial access tokens an administrator hands out
 * (only a SHA-256 of each is stored); the software statement issuers administrators trust, with their
 * keys and the limits of what their statements may register; and, per registered client, its
 * registration access token's hash, the certificate it was registered with and whether it awaits an
 * administrator's approval.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('initial_access_tokens', (t) => {
    t.string('id', 36).primary();
    t.string('token_hash', 64).notNullable().unique();
    t.bigInteger('expires_at').notNullable();
    t.integer('max_uses').nullable();
    t.integer('uses').notNullable().defaultTo(0);
    t.text('scope').notNullable().defaultTo('');
    t.text('resources').notNullable().defaultTo('[]');
    t.text('environments').notNullable().defaultTo('[]');
    t.string('approval', 10).notNullable().defaultTo('auto');
    t.string('created_by', 400).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('revoked_at').nullable();
  });
  await knex.schema.createTable('software_issuers', (t) => {
    t.string('name', 255).primary();
    t.text('jwks').nullable();
    t.string('jwks_uri', 2048).nullable();
    t.text('scope').notNullable().defaultTo('');
    t.text('resources').notNullable().defaultTo('[]');
    t.text('environments').notNullable().defaultTo('[]');
    t.string('approval', 10).notNullable().defaultTo('auto');
    t.bigInteger('created_at').notNullable();
  });
  await knex.schema.createTable('client_registrations', (t) => {
    t.string('client_id', 255).primary().references('client_id').inTable('clients').onDelete('CASCADE');
    t.string('status', 10).notNullable();
    t.string('access_token_hash', 64).notNullable();
    t.string('registrant_x5t', 64).notNullable();
    t.string('initial_access_token_id', 36).nullable();
    t.string('software_issuer', 255).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('client_registrations');
  await knex.schema.dropTable('software_issuers');
  await knex.schema.dropTable('initial_access_tokens');
}
