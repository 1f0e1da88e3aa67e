/**
 * Hostile corpus, dynamic client registration (cases/registration.ts): RFC 7591 `POST /register` and
 * RFC 7592 `/register/{id}` over real mTLS against one real server. A refusal is the status and RFC 7591
 * error the case names and changes nothing stored: no client, mapping or registration, no use of an
 * initial access token, no audit entry.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsJson } from '../helpers/net.js';
import type { Issued } from '../helpers/pki.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { OWNER_DNS, REGISTRANT_DNS, type RegistrationCase, registrationCases } from './cases/registration.js';
import { brief, checkTable, createTally, rows } from './lib/corpus.js';

const API = 'https://api.hostile.example';
const DIRECTORY = 'https://directory.hostile.example';
checkTable(registrationCases);
const tally = createTally('registration');
let s: TestServer;
const certs: Record<string, Issued> = {};
const own = { id: '', rat: '' };
const other = { id: '', rat: '' };
const tokens: Record<string, string> = {};
const statements: Record<string, string> = {};

async function iat(options: { maxUses?: number } = {}): Promise<{ token: string; id: string }> {
  const { token, record } = await s.admin.createRegistrationToken({ scopes: ['read'], resources: [API], ...options }, 'test');
  return { token, id: String(record.id) };
}

/** Every row a registration could write (the audit log by count). */
async function snapshot(): Promise<unknown> {
  const db = s.database.db;
  const all = async (table: string, order: string) => (await db(table).select('*').orderBy(order)).map((r: Record<string, unknown>) => JSON.stringify(r));
  return {
    clients: await all('clients', 'client_id'),
    mappings: await all('certificate_mappings', 'id'),
    registrations: await all('client_registrations', 'client_id'),
    tokens: await all('initial_access_tokens', 'id'),
    audit: Number((await db('audit_log').count({ n: '*' }))[0]!.n),
  };
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  const subject = (cn: string): Record<string, string[]>[] => [{ O: ['Hostile'] }, { CN: [cn] }];
  certs.registrant = await s.pki.client({ subject: subject('registrant'), san: [{ type: 'dns', value: REGISTRANT_DNS }] });
  certs.owner = await s.pki.client({ subject: subject('owner'), san: [{ type: 'dns', value: OWNER_DNS }] });
  certs.victim = await s.pki.client({ subject: subject('victim'), san: [{ type: 'dns', value: 'victim.hostile.example' }] });
  for (const [who, dns, into] of [
    ['owner', OWNER_DNS, own],
    ['victim', 'victim.hostile.example', other],
  ] as const) {
    const res = await send(
      'POST',
      '/register',
      certs[who],
      { authorization: `Bearer ${(await iat()).token}`, 'content-type': 'application/json' },
      JSON.stringify({ tls_client_auth_san_dns: dns }),
    );
    expect(res.status, res.text).toBe(201);
    Object.assign(into, { id: String(res.body.client_id), rat: String(res.body.registration_access_token) });
  }
  const revoked = await iat();
  await s.admin.revokeRegistrationToken(revoked.id, 'test');
  const expired = await iat();
  await s.database
    .db('initial_access_tokens')
    .where({ id: expired.id })
    .update({ expires_at: Date.now() - 1000 });
  const usedUp = await iat({ maxUses: 1 });
  const spent = await s.pki.client({ subject: subject('spent'), san: [{ type: 'dns', value: 'spent.hostile.example' }] });
  expect(
    (
      await send(
        'POST',
        '/register',
        spent,
        { authorization: `Bearer ${usedUp.token}`, 'content-type': 'application/json' },
        JSON.stringify({ tls_client_auth_san_dns: 'spent.hostile.example' }),
      )
    ).status,
  ).toBe(201);
  Object.assign(tokens, { revoked: revoked.token, expired: expired.token, 'used-up': usedUp.token, garbled: `${revoked.token.slice(0, -4)}%%%%` });
  // A trusted software statement issuer, and statements that must not verify against it.
  const pair = await generateKeyPair('ES256');
  const rogue = (await generateKeyPair('ES256')).privateKey;
  await s.admin.addSoftwareIssuer(
    { name: DIRECTORY, jwks: JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'dir-1' }] }), scopes: ['read'], resources: [API], environments: ['prod'] },
    'test',
  );
  const claims = { tls_client_auth_san_dns: REGISTRANT_DNS };
  const now = Math.floor(Date.now() / 1000);
  const sign = (key: CryptoKey | Uint8Array, options: { alg?: string; iss?: string; exp?: number; claims?: Record<string, unknown> } = {}) =>
    new SignJWT(options.claims ?? claims)
      .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: 'dir-1' })
      .setIssuer(options.iss ?? DIRECTORY)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? now + 300)
      .sign(key);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const genuine = await sign(pair.privateKey, { claims: { ...claims, client_name: 'genuine' } });
  const forged = await sign(rogue);
  Object.assign(statements, {
    '{ss:none}': `${b64({ alg: 'none' })}.${b64({ ...claims, iss: DIRECTORY, exp: now + 300 })}.`,
    '{ss:hs256}': await sign(new TextEncoder().encode(DIRECTORY.padEnd(32, '!')), { alg: 'HS256' }),
    '{ss:wrong-key}': forged,
    '{ss:spliced}': `${forged.split('.').slice(0, 2).join('.')}.${genuine.split('.')[2]}`,
    '{ss:expired}': await sign(pair.privateKey, { exp: now - 60 }),
    '{ss:rogue}': await sign(rogue, { iss: 'https://rogue.hostile.example' }),
  });
});
afterAll(async () => {
  console.log(tally.summary());
  await s?.close();
});

function send(method: string, path: string, cert: Issued | undefined, headers: Record<string, string>, body?: string) {
  return httpsJson(`${s.mtlsUrl}${path}`, { agent: s.agent(cert), method, ...(body !== undefined ? { body } : {}), headers });
}

/** The request of a case; fresh initial access tokens are made before the snapshot is taken. */
async function prepare(c: RegistrationCase) {
  const managing = c.path !== '/register';
  const path = c.path.replaceAll('{own}', encodeURIComponent(own.id)).replaceAll('{other}', encodeURIComponent(other.id));
  const kind = c.token ?? (managing ? 'rat' : 'iat');
  const fresh = ['iat', 'iat-as-rat', 'query', 'basic', 'in-body'].includes(kind) ? (await iat()).token : undefined;
  const token =
    kind === 'rat'
      ? c.path.startsWith('/register/{other}')
        ? other.rat
        : own.rat
      : kind === 'other-rat'
        ? c.path.startsWith('/register/{other}')
          ? own.rat
          : other.rat
        : (fresh ?? tokens[kind]);
  const headers: Record<string, string> = {};
  let url = path;
  if (kind === 'query') url += `?access_token=${encodeURIComponent(token!)}`;
  else if (kind === 'basic') headers.authorization = `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
  else if (kind !== 'in-body' && kind !== 'none' && token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (c.raw) {
    body = c.raw.body;
    if (c.raw.contentType) headers['content-type'] = c.raw.contentType;
  } else if (c.body !== undefined) {
    const value = c.body as Record<string, unknown>;
    const substituted = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && v in statements ? statements[v] : v]));
    body = JSON.stringify(kind === 'in-body' ? { ...substituted, access_token: token } : substituted);
    headers['content-type'] = 'application/json';
  }
  const cert = c.cert === 'none' ? undefined : certs[c.cert ?? (managing ? 'owner' : 'registrant')];
  return () => send(c.method, url, cert, headers, body);
}

describe('hostile corpus: dynamic client registration', () => {
  it.each(rows(registrationCases))('%s', async (_title, c) => {
    const attempt = await prepare(c);
    const before = await snapshot();
    const res = await attempt().catch((err: Error) => ({ status: 0, body: {} as Record<string, unknown>, text: err.message, headers: {} }));
    const accepted = res.status >= 200 && res.status < 300;
    tally.judge(c, { status: res.status, accepted, detail: brief(res.body, res.text) });
    expect(res.status, brief(res.body, res.text)).toBe(c.status);
    if (c.error) expect(res.body.error, brief(res.body, res.text)).toBe(c.error);
    if (!accepted) {
      expect(String(res.body.error_description ?? ''), 'RFC 6749 §5.2 error_description characters').toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
      expect(String(res.body.error_description ?? '').length, 'a short reason').toBeLessThan(600);
      expect(await snapshot(), 'a refused request changes nothing stored').toEqual(before);
    }
  });
});
