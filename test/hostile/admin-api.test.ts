/**
 * Hostile corpus, the admin API: request bodies, ids and callers (cases/admin.ts) and jwks_uri targets
 * (cases/jwks-uri.ts), over real mTLS against one real server. A refusal is a 4xx with a coded error and
 * changes nothing stored; a jwks_uri refusal happens before anything is fetched.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import { type AddressInfo, isIP } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminCaller, adminCall, createAdminCaller } from '../helpers/admin.js';
import { SESSION_COOKIE } from '../../src/console/session.js';
import { createTestPki, type Issued } from '../helpers/pki.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type AdminCase, adminCases } from './cases/admin.js';
import { jwksUriCases } from './cases/jwks-uri.js';
import { brief, checkTable, createTally, rows } from './lib/corpus.js';
import { installNetworkGuard, type NetworkGuard } from './lib/network-guard.js';

const API = 'https://api.hostile.example';
checkTable([...adminCases, ...jwksUriCases]);
const tally = createTally('admin API');
let s: TestServer;
let admin: AdminCaller;
let reader: AdminCaller;
let apiToken: string;
let stranger: Issued;
let guard: NetworkGuard;
let publisher: Server;
let publisherPort: number;
let publisherConnections = 0;
const pems: Record<string, string> = {};
const session = { cookie: '', header: '', csrf: '' };

const TABLES = ['clients', 'certificate_mappings', 'trust_anchors', 'resource_servers', 'signing_keys', 'audit_log', 'upstream_providers', 'user_consents'];
async function stored(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await s.database.db(t).count({ n: '*' }))[0]!.n);
  return out;
}

beforeAll(async () => {
  guard = installNetworkGuard();
  const pki = await createTestPki('Hostile Admin');
  s = await startTestServer({ pki });
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  admin = await createAdminCaller(s, ['certbound:admin'], { clientId: 'hostile-admin' });
  reader = await createAdminCaller(s, ['certbound:admin:read'], { clientId: 'hostile-reader' });
  await s.admin.addClient({ clientId: 'hostile-api', mapping: { kind: 'subject_dn', value: 'CN=hostile-api,O=Hostile' }, scopes: ['read'], defaultResource: API }, 'test');
  const apiCert = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['hostile-api'] }] });
  apiToken = String((await s.token(apiCert, { grant_type: 'client_credentials', client_id: 'hostile-api' })).body.access_token);
  stranger = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['stranger'] }] });
  await s.admin.addClient(
    {
      clientId: 'hostile-pkj',
      privateKeyJwtJwks: JSON.stringify({
        keys: [{ kty: 'EC', crv: 'P-256', kid: 'k', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }],
      }),
      scopes: ['read'],
      defaultResource: API,
    },
    'test',
  );
  // A console session of the administrator: the cookie the console sets, and its anti-CSRF token.
  const page = await admin.call('GET', '/admin/console/', { token: null });
  const cookie = String([page.headers['set-cookie']].flat()[0] ?? '').split(';')[0]!;
  expect(cookie, page.text.slice(0, 200)).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
  const who = await admin.call('GET', '/admin/console/session', { token: null, headers: { cookie } });
  expect(who.status, who.text).toBe(200);
  Object.assign(session, { cookie, header: String(who.body.csrf_header), csrf: String(who.body.csrf_token) });
  const leaf = await pki.client({ subject: [{ CN: ['not a ca'] }] });
  Object.assign(pems, { '{leaf}': leaf.pem, '{two}': pki.root.pem + pki.intermediate.pem, '{ca}': pki.root.pem });
  // A client's host on loopback: serves a valid set at /jwks.json and a redirect to the metadata address.
  publisher = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, (req, res) => {
    if (req.url === '/redirect') return void res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: [] }));
  });
  publisher.on('connection', () => publisherConnections++);
  publisher.listen(0, '127.0.0.1');
  await once(publisher, 'listening');
  publisherPort = (publisher.address() as AddressInfo).port;
});
afterAll(async () => {
  console.log(tally.summary());
  guard?.uninstall();
  await new Promise((r) => (publisher ? publisher.close(r) : r(undefined)));
  await s?.close();
});

async function call(c: AdminCase) {
  const path = c.path.replace('{admin}', encodeURIComponent(s.config.adminResource));
  let body = c.body;
  // A member whose value names a PEM made at test time ('{leaf}') gets that PEM.
  if (body && typeof body === 'object' && !Array.isArray(body))
    body = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' && v in pems ? pems[v] : v]));
  const options = { ...(c.raw ? { rawBody: c.raw.body, contentType: c.raw.contentType } : body !== undefined ? { body } : {}) };
  switch (c.caller ?? 'admin') {
    case 'reader':
      return reader.call(c.method, path, options);
    case 'anonymous':
      return admin.call(c.method, path, { ...options, token: null });
    case 'api-token':
      return admin.call(c.method, path, { ...options, token: apiToken });
    case 'wrong-cert':
      return adminCall(s, c.method, path, { ...options, cert: stranger, token: admin.token });
    case 'session':
      return admin.call(c.method, path, { ...options, token: null, headers: { cookie: session.cookie, [session.header]: session.csrf } });
    case 'session-no-csrf':
      return admin.call(c.method, path, { ...options, token: null, headers: { cookie: session.cookie } });
    case 'session-wrong-csrf':
      return admin.call(c.method, path, { ...options, token: null, headers: { cookie: session.cookie, [session.header]: `${session.csrf}x` } });
    case 'session-other-cert':
      return adminCall(s, c.method, path, { ...options, cert: stranger, token: null, headers: { cookie: session.cookie, [session.header]: session.csrf } });
    case 'forged-cookie':
      return admin.call(c.method, path, { ...options, token: null, headers: { cookie: `${SESSION_COOKIE}=${'A'.repeat(43)}`, [session.header]: session.csrf } });
    default:
      return admin.call(c.method, path, options);
  }
}

describe('hostile corpus: admin API requests', () => {
  it.each(rows(adminCases))('%s', async (_title, c) => {
    const before = await stored();
    const res = await call(c).catch((err: Error) => ({ status: 0, body: {} as Record<string, unknown>, text: err.message, headers: {} }));
    const accepted = res.status >= 200 && res.status < 300;
    if (!accepted && res.status >= 400 && res.status < 500) {
      // Oversized requests may be refused by the HTTP layer (413/431) before the admin API runs.
      if (![413, 431].includes(res.status)) expect(typeof res.body.code, `a coded error: ${brief(res.body, res.text)}`).toBe('string');
      expect(await stored(), 'a refused request changes nothing stored').toEqual(before);
    }
    tally.judge(c, { status: res.status, accepted, detail: brief(res.body, res.text) });
  });
});

/** Whether the URI's host is an IP address literal (not a name that must be resolved). */
function literalHost(uri: string): boolean {
  try {
    const host = new URL(uri).hostname.replace(/^\[|\]$/g, '');
    return isIP(host) !== 0;
  } catch {
    return false;
  }
}

describe('hostile corpus: jwks_uri targets at registration', () => {
  it.each(rows(jwksUriCases))('%s', async (_title, c) => {
    const uri = c.uri.replace('{port}', String(publisherPort));
    const before = await stored();
    const [connections, refused, attempted] = [publisherConnections, guard.refused.length, guard.attempts.length];
    const target = (() => {
      try {
        return new URL(uri).port || '443';
      } catch {
        return undefined;
      }
    })();
    const id = `hostile-uri-${c.id.toLowerCase()}`;
    const res =
      c.via === 'patch'
        ? await admin.call('PATCH', '/admin/clients/hostile-pkj', { body: { jwks_uri: uri } })
        : await admin.call('POST', '/admin/clients', { body: { client_id: id, [c.via]: uri, scope: 'read', default_resource: API } });
    const accepted = res.status >= 200 && res.status < 300;
    if (!accepted && res.status < 500) {
      expect(res.status, brief(res.body, res.text)).toBe(400);
      expect(await stored(), 'a refused registration changes nothing stored').toEqual(before);
      // Refused before any fetch: nothing reached the loopback host, nothing was attempted elsewhere.
      expect(publisherConnections - connections, 'connections to the loopback target').toBe(0);
      expect(guard.refused.slice(refused), 'connections attempted off loopback').toEqual([]);
      // An address literal is refused before a socket exists; a name (localhost) is refused by the checked
      // lookup inside the connection attempt, so only the publisher's own count can show that nothing connected.
      if (literalHost(uri))
        expect(
          guard.attempts.slice(attempted).filter((a) => a.endsWith(`:${target}`)),
          'connections attempted to the target',
        ).toEqual([]);
      // The reason is short and echoes no fetched bytes.
      expect(String(res.body.message ?? '').length).toBeLessThan(600);
    }
    tally.judge(c, { status: res.status, accepted, detail: brief(res.body, res.text) });
  });

  it('JWKS control: an inline JWKS registers (the route accepts what is due)', async () => {
    const res = await admin.call('POST', '/admin/clients', {
      body: {
        client_id: 'hostile-inline',
        private_key_jwt_jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] },
        scope: 'read',
        default_resource: API,
      },
    });
    expect(res.status, brief(res.body, res.text)).toBe(201);
  });
});
