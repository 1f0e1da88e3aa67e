/**
 * docs/configuration.md is the reference for every setting: each CERTBOUND_* variable has exactly one row,
 * with the file key the loader maps it to and the default the schema (or the loader) really applies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema, ENV_VARS } from '../../src/config/index.js';

interface Row {
  variable: string;
  fileKey: string;
  defaultCell: string;
}

function settingRows(markdown: string): Row[] {
  const rows: Row[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const variable = /^`(CERTBOUND_[A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!variable) continue;
    rows.push({ variable, fileKey: (cells[2] ?? '').replace(/`/g, ''), defaultCell: cells[3] ?? '' });
  }
  return rows;
}

// Defaults the loader derives from other settings (src/config/load.ts), as the page writes them.
const DERIVED_DEFAULTS: Record<string, string> = {
  databaseUrl: '`<dataDir>/certbound.sqlite`',
  issuer: '`https://localhost:<port>`',
  mtlsUrl: '`https://localhost:<mtlsPort>`',
  adminResource: '`<issuer>/admin`',
  tlsCert: 'development PKI',
  tlsKey: 'development PKI',
};

describe('docs/configuration.md', () => {
  const rows = settingRows(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'));
  const defaults = configSchema.parse({}) as Record<string, unknown>;

  it('lists every CERTBOUND_* variable once, with its file key, and no variable the loader does not read', () => {
    const listed = rows.map((r) => r.variable);
    expect(new Set(listed).size, 'a variable listed twice').toBe(listed.length);
    expect(listed.filter((v) => v !== 'CERTBOUND_CONFIG').sort()).toEqual(Object.keys(ENV_VARS).sort());
    for (const row of rows) {
      if (row.variable === 'CERTBOUND_CONFIG') continue;
      expect(row.fileKey, row.variable).toBe(ENV_VARS[row.variable]);
    }
  });

  it('states the default the configuration really applies', () => {
    for (const row of rows) {
      if (row.variable === 'CERTBOUND_CONFIG') continue;
      const key = ENV_VARS[row.variable] as string;
      const expected = key in DERIVED_DEFAULTS ? DERIVED_DEFAULTS[key] : defaults[key] === undefined ? '—' : `\`${String(defaults[key])}\``;
      expect(row.defaultCell, row.variable).toBe(expected);
    }
  });
});
