/**
 * Grants have one home: a file per grant under src/server/grants/, listed in GRANTS. The rest of the
 * server reads the list and names no grant type, so a new grant is a new file, not a new conditional.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRANT_TYPES as SERVED_GRANT_TYPES } from '../../../src/config/grant-types.js';
import { GRANT_TYPES, GRANTS, grantOf } from '../../../src/server/grants/index.js';
import { trimDiscovery } from '../../../src/server/provider.js';

const root = path.resolve(import.meta.dirname, '../../..');
const grantsDir = path.join(root, 'src/server/grants');
/** The files of grants/ that are not a grant: the interface, the list, the rules every grant shares. */
const NOT_GRANTS = ['grant.ts', 'index.ts', 'resource-access.ts'];

describe('grants', () => {
  it('every file of src/server/grants/ is one registered grant, and every registered grant has its file', () => {
    const files = readdirSync(grantsDir).filter((f) => f.endsWith('.ts') && !NOT_GRANTS.includes(f));
    expect(files.map((f) => f.replace(/\.ts$/, '').replace(/-/g, '_')).sort()).toEqual([...GRANT_TYPES].sort());
    expect(GRANT_TYPES).toEqual(['client_credentials']);
  });

  it('the grants the server serves are exactly the grant types client registration records (src/config/grant-types.ts)', () => {
    expect([...GRANT_TYPES].sort()).toEqual([...SERVED_GRANT_TYPES].sort());
  });

  it('outside grants/, the server names no grant type', () => {
    const files = readdirSync(path.join(root, 'src/server'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('grants'));
    const named = files.filter((f) => GRANT_TYPES.some((type) => readFileSync(path.join(root, 'src/server', f), 'utf8').includes(`'${type}`)));
    expect(named).toEqual([]);
  });

  it('a token request finds its grant by grant_type; discovery lists the registered grants only', () => {
    expect(grantOf('client_credentials')).toBe(GRANTS[0]);
    expect(grantOf('authorization_code')).toBeUndefined();
    const body: Record<string, unknown> = { grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'] };
    trimDiscovery(body);
    expect(body.grant_types_supported).toEqual(['client_credentials']);
  });
});
