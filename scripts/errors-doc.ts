/**
 * Generates docs/errors.md from the error catalog (src/errors/catalog) and scripts/errors-doc.template.md:
 * `{{catalog:<group>}}` becomes the table of that group, `{{events}}` the table of log events.
 *
 *   npm run docs:errors                       write docs/errors.md
 *   npx tsx scripts/errors-doc.ts --check     exit 1 when docs/errors.md would change
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG_GROUPS, type CatalogEntry, LOG_EVENTS } from '../src/errors/catalog/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = 'docs/errors.md';
const TEMPLATE = 'scripts/errors-doc.template.md';

/** Table-cell text: a `docs/x.md` reference becomes a link relative to docs/, and `|` is escaped. */
function cell(text: string): string {
  return text.replace(/\bdocs\/([\w./-]+\.md)\b/g, '[$1]($1)').replace(/\|/g, '\\|');
}

function status(entry: CatalogEntry): string {
  if (entry.status === undefined) return '—';
  return entry.oauthError ? `${entry.status} \`${entry.oauthError}\`` : String(entry.status);
}

function groupTable(group: Readonly<Record<string, CatalogEntry>>): string {
  const rows = Object.entries(group).map(([code, e]) => `| \`${code}\` | ${status(e)} | ${e.surfaces.map((s) => `\`${s}\``).join(', ')} | ${cell(e.meaning)} | ${cell(e.hint)} |`);
  return ['| Code | Status | Where | When | What to do |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function eventsTable(): string {
  const rows = Object.entries(LOG_EVENTS).map(([name, e]) => `| \`${name}\` | ${cell(e.meaning)} |`);
  return ['| `event` | When, and what the line carries |', '| --- | --- |', ...rows].join('\n');
}

/** The page as it should be. Throws on a placeholder that names no group, or a group the template leaves out. */
export function render(): string {
  const template = readFileSync(path.join(ROOT, TEMPLATE), 'utf8');
  const used = new Set<string>();
  const out = template.replace(/\{\{(catalog:([a-z-]+)|events)\}\}/g, (_m, _all: string, name: string | undefined) => {
    if (name === undefined) return eventsTable();
    const group = (CATALOG_GROUPS as Record<string, Readonly<Record<string, CatalogEntry>>>)[name];
    if (!group) throw new Error(`${TEMPLATE}: {{catalog:${name}}} names no catalog group`);
    used.add(name);
    return groupTable(group);
  });
  const missing = Object.keys(CATALOG_GROUPS).filter((g) => !used.has(g));
  if (missing.length) throw new Error(`${TEMPLATE} has no {{catalog:…}} for ${missing.join(', ')}`);
  return out;
}

/** True when docs/errors.md is what render() gives. */
export function isCurrent(): boolean {
  return readFileSync(path.join(ROOT, OUTPUT), 'utf8') === render();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    if (!isCurrent()) {
      process.stderr.write(`${OUTPUT} is stale: run npm run docs:errors\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(path.join(ROOT, OUTPUT), render());
  }
}
