/**
 * Grants have one home: a file per grant under src/server/grants/, listed in GRANTS. The rest of the
 * server reads the list and names no grant type, so a new grant is a new file, not a new conditional.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRANT_TYPES as SERVED_GRANT_TYPES } from '../../../src/config/grant-types.js';
import { GRANT_TYPES, GRANTS, grantOf, RESPONSE_TYPES, responseTypesOf } from '../../../src/server/grants/index.js';
import { trimDiscovery } from '../../../src/server/provider.js';

const root = path.resolve(import.meta.dirname, '../../..');
const grantsDir = path.join(root, 'src/server/grants');
/** The files of grants/ that are not a grant: the interface, the list, the rules every grant shares. */
const NOT_GRANTS = ['grant.ts', 'index.ts', 'resource-access.ts'];

describe('grants', () => {
  it('every file of src/server/grants/ is one registered grant, and every registered grant has its file', () => {
    const files = readdirSync(grantsDir).filter((f) => f.endsWith('.ts') && !NOT_GRANTS.includes(f));
    expect(files.map((f) => f.replace(/\.ts$/, '').replace(/-/g, '_')).sort()).toEqual([...GRANT_TYPES].sort());
    expect(GRANT_TYPES).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);
  });

  it('the grants the server serves are exactly the grant types client registration records (src/config/grant-types.ts)', () => {
    expect([...GRANT_TYPES].sort()).toEqual([...SERVED_GRANT_TYPES].sort());
  });

  it('outside grants/, the server names no grant type', () => {
    const files = readdirSync(path.join(root, 'src/server'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('grants'));
    const named = files.filter((f) => GRANT_TYPES.some((type) => readFileSync(path.join(root, 'src/server', f), 'utf8').includes(`'${type}`)));
    expect(named).toEqual([]);
  });

  it('a token request finds its grant by grant_type; discovery lists the registered grants and response types only', () => {
    expect(grantOf('client_credentials')).toBe(GRANTS[0]);
    expect(grantOf('authorization_code')?.type).toBe('authorization_code');
    expect(grantOf('refresh_token')?.type).toBe('refresh_token');
    expect(grantOf('urn:ietf:params:oauth:grant-type:device_code')).toBeUndefined();
    const body: Record<string, unknown> = {
      grant_types_supported: ['authorization_code', 'client_credentials', 'implicit', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types_supported: ['code', 'code id_token', 'none'],
      code_challenge_methods_supported: ['S256', 'plain'],
      require_pushed_authorization_requests: false,
    };
    trimDiscovery(body);
    expect(body.grant_types_supported).toEqual(['authorization_code', 'client_credentials', 'refresh_token']);
    expect(body.response_types_supported).toEqual(['code']);
    expect(body.code_challenge_methods_supported).toEqual(['S256']);
    expect(body).not.toHaveProperty('require_pushed_authorization_requests');
  });

  it('a client registers the response types of its grants: code with authorization_code, none with client_credentials only', () => {
    expect(responseTypesOf(['authorization_code', 'refresh_token'])).toEqual(['code']);
    expect(responseTypesOf(['client_credentials'])).toEqual([]);
    expect(RESPONSE_TYPES).toEqual(['code']);
  });
});
