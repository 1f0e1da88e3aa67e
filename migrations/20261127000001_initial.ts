import type { Knex } from 'knex';

/**
 * The initial schema. Times are epoch milliseconds (bigint) so SQLite and PostgreSQL behave the same;
 * JSON documents are stored as text for the same reason.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('trust_anchors', (t) => {
    t.string('id', 36).primary();
    t.string('name', 200).notNullable().unique();
    t.text('pem').notNullable();
    t.string('spki_sha256', 64).notNullable().unique();
    t.string('x5t_s256', 64).notNullable();
    t.text('subject').notNullable();
    t.string('environment', 64).nullable();
    t.bigInteger('not_after').notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('resource_servers', (t) => {
    t.string('identifier', 2000).primary();
    t.text('scope').notNullable();
    t.string('token_format', 16).notNullable().defaultTo('jwt');
    t.integer('ttl').nullable();
    t.string('signing_alg', 16).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('clients', (t) => {
    t.string('client_id', 255).primary();
    t.string('token_endpoint_auth_method', 64).notNullable();
    t.boolean('bound_tokens').notNullable().defaultTo(true);
    t.text('scope').notNullable().defaultTo('');
    t.string('default_resource', 2000).nullable().references('identifier').inTable('resource_servers').onDelete('RESTRICT');
    t.text('jwks').nullable();
    t.text('metadata').notNullable().defaultTo('{}');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('certificate_mappings', (t) => {
    t.string('id', 36).primary();
    t.string('client_id', 255).notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
    t.string('kind', 16).notNullable();
    t.text('value').notNullable();
    t.text('canonical').notNullable();
    t.string('trust_anchor_id', 36).nullable().references('id').inTable('trust_anchors').onDelete('RESTRICT');
    t.bigInteger('not_before').nullable();
    t.bigInteger('not_after').nullable();
    t.bigInteger('created_at').notNullable();
    t.index(['client_id']);
    t.index(['kind', 'canonical']);
  });

  await knex.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.string('alg', 16).notNullable();
    /** active: signs and is published; inactive: published only (rotation overlap); retired: neither. */
    t.string('status', 16).notNullable();
    t.text('private_jwk').notNullable();
    t.text('public_jwk').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('retired_at').nullable();
  });

  await knex.schema.createTable('oidc_payloads', (t) => {
    t.string('model', 64).notNullable();
    t.string('id', 255).notNullable();
    t.text('payload').notNullable();
    t.string('grant_id', 255).nullable();
    t.string('user_code', 255).nullable();
    t.string('uid', 255).nullable();
    t.bigInteger('expires_at').nullable();
    t.bigInteger('consumed_at').nullable();
    t.primary(['model', 'id']);
    t.index(['grant_id']);
    t.index(['expires_at']);
  });

  /** One row per reloadable table; bumped in the same transaction as each change so servers reload. */
  await knex.schema.createTable('revisions', (t) => {
    t.string('name', 64).primary();
    t.bigInteger('revision').notNullable();
  });
  await knex('revisions').insert([
    { name: 'trust_anchors', revision: 0 },
    { name: 'signing_keys', revision: 0 },
  ]);

  await knex.schema.createTable('audit_log', (t) => {
    t.increments('id').primary();
    t.bigInteger('at').notNullable();
    t.string('actor', 300).notNullable();
    t.string('action', 64).notNullable();
    t.string('target', 2000).notNullable();
    t.text('before').nullable();
    t.text('after').nullable();
    t.index(['at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_log', 'revisions', 'oidc_payloads', 'signing_keys', 'certificate_mappings', 'clients', 'resource_servers', 'trust_anchors']) {
    await knex.schema.dropTableIfExists(table);
  }
}
