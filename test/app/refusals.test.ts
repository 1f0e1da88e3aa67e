/**
 * The use cases refuse in neutral terms: a stable code, the input member the refusal is about and its
 * values, never a CLI flag, a command or an admin route. The CLI and the admin API each word the same
 * refusal for their reader (src/cli/error-wording.ts, src/admin-api/error-wording.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiWording } from '../../src/admin-api/error-wording.js';
import { createAdminService } from '../../src/app/service.js';
import { explainForCli } from '../../src/cli/error-wording.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { refusal } from '../helpers/errors.js';

let database: TestDatabase;
let admin: ReturnType<typeof createAdminService>;
const API = 'https://api.example.com';

/** A flag, a certbound command or an admin route: a surface's words. */
const SURFACE_WORDS = /(^|\s)--[a-z]|certbound [a-z]|\/admin\//;

beforeAll(async () => {
  database = await createTestDatabase();
  admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  await admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' }, scopes: ['read'] }, 'test');
});
afterAll(() => database?.drop());

describe('refusals of the use cases', () => {
  const cases: { title: string; call: () => Promise<unknown>; code: string; member?: string; cli: string; api: { message: RegExp; field?: string; hint?: RegExp } }[] = [
    {
      title: 'a scope that is not a scope token',
      call: () => admin.addResourceServer({ identifier: 'https://b.example.com', scopes: ['a"b'] }, 'test'),
      code: 'ERR_SCOPE_INVALID',
      member: 'scopes',
      cli: '--scope: "a"b" is not a valid scope token\n  → Scopes are space-separated tokens of visible ASCII characters without quotes or backslashes.',
      api: { message: /^scope: "a"b" is not a valid scope token$/, field: 'scope' },
    },
    {
      title: 'a token lifetime out of range',
      call: () => admin.addResourceServer({ identifier: 'https://b.example.com', scopes: ['read'], ttl: 5 }, 'test'),
      code: 'ERR_TTL_INVALID',
      member: 'ttl',
      cli: '--ttl 5 is out of range\n  → Use a whole number of seconds from 10 to 86400.',
      api: { message: /^ttl: 5 is out of range$/, field: 'ttl' },
    },
    {
      title: 'an unknown introspection client',
      call: () => admin.addResourceServer({ identifier: 'https://b.example.com', scopes: ['read'], introspectionClients: ['nobody'] }, 'test'),
      code: 'ERR_CLIENT_UNKNOWN',
      member: 'introspectionClients',
      cli: '--introspection-clients: there is no client "nobody".\n  → Register the resource server\'s own client first (certbound client add --id …), then name it here.',
      api: { message: /^introspection_clients: there is no client "nobody"\.$/, field: 'introspection_clients', hint: /POST \/admin\/clients/ },
    },
    {
      title: 'an unknown trust anchor in a new mapping',
      call: () => admin.addClient({ clientId: 'x1', mapping: { kind: 'san_dns', value: 'x1.example.com', trustAnchor: 'nope' } }, 'test'),
      code: 'ERR_TRUST_ANCHOR_UNKNOWN',
      member: 'mapping.trustAnchor',
      cli: 'There is no trust anchor named "nope".\n  → Add one first with: certbound trust add --name NAME --cert FILE',
      api: { message: /^mapping\.trust_anchor: There is no trust anchor named "nope"\.$/, field: 'mapping.trust_anchor', hint: /POST \/admin\/trust-anchors/ },
    },
    {
      title: 'a scope no resource server offers',
      call: () => admin.updateClient('billing', { scopes: ['write'] }, 'test'),
      code: 'ERR_SCOPE_UNKNOWN',
      member: 'scopes',
      cli: 'No resource server offers the scope(s) write.\n  → Add the scope to a resource server first (certbound resource add --id URI --scope "…"), or remove it from the client.',
      api: { message: /^scope: No resource server offers the scope\(s\) write\.$/, field: 'scope', hint: /PUT \/admin\/resource-servers/ },
    },
    {
      title: 'keys for a tls_client_auth client',
      call: () => admin.updateClient('billing', { jwks: '{"keys":[]}' }, 'test'),
      code: 'ERR_CLIENT_KEYS',
      member: 'jwks',
      cli: 'Client "billing" uses tls_client_auth: it has certificate mappings, not keys.\n  → Change its certificates with: certbound client mapping add|remove',
      api: { message: /^jwks: Client "billing" uses tls_client_auth/, field: 'jwks', hint: /\/admin\/clients\/billing\/mappings/ },
    },
    {
      title: 'a window that ends before it starts',
      call: () => admin.addMapping('billing', { kind: 'san_dns', value: 'b2.example.com', notBefore: new Date('2030-01-01'), notAfter: new Date('2029-01-01') }, 'test'),
      code: 'ERR_MAPPING_WINDOW',
      member: 'notAfter',
      cli: '--not-after must be later than --not-before',
      api: { message: /^not_after: not_after must be later than not_before$/, field: 'not_after' },
    },
    {
      title: 'an unknown mapping',
      call: () => admin.removeMapping('billing', 'no-such-mapping', 'test'),
      code: 'ERR_MAPPING_UNKNOWN',
      cli: 'Client "billing" has no mapping no-such-mapping.\n  → certbound client mapping list billing lists its mappings.',
      api: { message: /^Client "billing" has no mapping no-such-mapping\.$/, hint: /GET \/admin\/clients\/billing\/mappings/ },
    },
    {
      title: 'an unknown signing key',
      call: () => admin.retireKey('no-such-kid', 'test'),
      code: 'ERR_KEY_UNKNOWN',
      cli: 'There is no signing key no-such-kid.\n  → certbound keys list shows the keys.',
      api: { message: /^There is no signing key no-such-kid\.$/, hint: /GET \/admin\/keys/ },
    },
  ];

  it.each(cases)('$title: $code, neutral; each surface words it', async ({ call, code, member, cli, api }) => {
    const err = await refusal(call());
    expect(err.code).toBe(code);
    expect(err.details?.member).toBe(member);
    expect(err.message).not.toMatch(SURFACE_WORDS);
    expect(err.hint ?? '').not.toMatch(SURFACE_WORDS);
    expect(explainForCli(err)).toBe(cli);
    const worded = adminApiWording(err);
    expect(worded.message).toMatch(api.message);
    expect(worded.field).toBe(api.field);
    if (api.hint) expect(worded.hint).toMatch(api.hint);
    expect(worded.details ?? {}).not.toHaveProperty('member');
  });
});
