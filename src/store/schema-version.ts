/**
 * Which migrations this version of certbound consists of, and whether a database records exactly them,
 * without knex: a server's start on a current database answers it with one query on its driver
 * connection and loads no knex (docs/decisions/001-knex-off-the-hot-path.md). knex.ts maps each name to its migration module.
 */
import { type Queryable, sqlOf } from './sql.js';

export const MIGRATION_NAMES = [
  '20261127000001_initial',
  '20261128000001_certificate_last_seen',
  '20261128000002_trust_anchor_crls',
  '20261128000003_lookup_revisions',
  '20261128000004_client_jwks_uri',
  '20261128000005_subject_dn_refold',
  '20261129000001_resource_introspection_clients',
  '20261201000004_trust_anchor_allow_missing_eku',
  '20261206000001_audit_actor_width',
  '20261207000001_client_registrations',
  '20261207000002_authorization_code',
] as const;

export type MigrationName = (typeof MIGRATION_NAMES)[number];

/** The recorded migrations against this version's: names it does not know, and its names not recorded. */
export function compareWithOurs(recorded: ReadonlySet<string>): { unknown: string[]; pending: string[] } {
  const ours = new Set<string>(MIGRATION_NAMES);
  return {
    unknown: [...recorded].filter((name) => !ours.has(name)).sort(),
    pending: [...MIGRATION_NAMES].sort().filter((name) => !recorded.has(name)),
  };
}

/**
 * True when `knex_migrations` lists exactly this version's migrations (false when the table is missing:
 * one query, no schema inspection, for the usual start).
 */
export async function recordsExactlyOurMigrations(db: Queryable): Promise<boolean> {
  let rows: { name: unknown }[];
  try {
    rows = await sqlOf(db).all<{ name: unknown }>('select name from knex_migrations');
  } catch {
    return false;
  }
  const { unknown, pending } = compareWithOurs(new Set(rows.map((r) => String(r.name))));
  return unknown.length === 0 && pending.length === 0;
}
