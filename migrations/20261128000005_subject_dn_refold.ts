import type { Knex } from 'knex';
import { canonicalizeMappingValue } from '../src/pki/index.js';

/**
 * The case folding of DN values changed (src/pki/dn.ts, prepareCaseIgnore): dotless ı is no longer
 * folded to i, and ẞ folds to ss. Stored `subject_dn` mappings get the canonical form of this version,
 * so a registered `CN=admın` still matches its own certificate and never `CN=admin`. A value that no
 * longer parses keeps its row unchanged (the mapping then matches nothing, as before). Running servers
 * see the change through the clients revision.
 */
export async function up(knex: Knex): Promise<void> {
  const rows = (await knex('certificate_mappings').where({ kind: 'subject_dn' }).select('id', 'value', 'canonical')) as { id: string; value: string; canonical: string }[];
  let changed = 0;
  for (const row of rows) {
    let canonical: string;
    try {
      canonical = canonicalizeMappingValue('subject_dn', row.value);
    } catch {
      continue;
    }
    if (canonical === row.canonical) continue;
    await knex('certificate_mappings').where({ id: row.id }).update({ canonical });
    changed++;
  }
  if (changed > 0) await knex('revisions').where({ name: 'clients' }).increment('revision', 1);
}

/** The earlier folding merged ı with i; its canonical forms are not restored. */
export async function down(): Promise<void> {}
