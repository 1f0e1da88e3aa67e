import type { Knex } from 'knex';

/**
 * Revisions for the tables the server caches per request (clients with their mappings, resource
 * servers): bumped by every write, read once per token/introspection/revocation request.
 */
const NAMES = ['clients', 'resource_servers'];

export async function up(knex: Knex): Promise<void> {
  const existing = new Set((await knex('revisions').whereIn('name', NAMES).select('name')).map((r: { name: string }) => r.name));
  const missing = NAMES.filter((n) => !existing.has(n)).map((name) => ({ name, revision: 0 }));
  if (missing.length) await knex('revisions').insert(missing);
}

export async function down(knex: Knex): Promise<void> {
  await knex('revisions').whereIn('name', NAMES).delete();
}
