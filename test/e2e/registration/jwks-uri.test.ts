/**
 * SS-4/SS-7: dynamic registration (RFC 7591/7592) of a self_signed_tls_client_auth client that publishes
 * its certificates at a jwks_uri. The registration fetches the set once, over real HTTPS from a client
 * host on loopback (allowed here by CERTBOUND_JWKS_URI_ALLOWED_RANGES), and the presented certificate
 * must be one of its x5c; the client then gets a bound token at once. Every refusal leaves the database
 * as it was.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson, type JsonResponse } from '../../helpers/net.js';
import { createTestPki, type Issued, selfSigned, type TestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
/** The client host of this file serves on loopback, which certbound refuses unless allowed (H15-5). */
const LOOPBACK = '127.0.0.0/8,::1/128';
let s: TestServer;
let pki: TestPki;
let publisher: Server;
let base: string;
/** What the client's host serves at /jwks.json. */
let published: { status: number; body: string } = { status: 404, body: '' };
let fetches = 0;

async function publish(...certs: Issued[]): Promise<void> {
  const keys = await Promise.all(certs.map(async (c) => ({ ...(await exportJWK(createPublicKey(c.pem))), x5c: [c.der.toString('base64')] })));
  published = { status: 200, body: JSON.stringify({ keys }) };
}

async function iat(): Promise<string> {
  const { token } = await s.admin.createRegistrationToken({ scopes: ['read'], resources: [API], environments: ['prod'] }, 'test');
  return token;
}

function register(cert: Issued, token: string, metadata: Record<string, unknown>): Promise<JsonResponse> {
  return httpsJson(`${s.mtlsUrl}/register`, {
    agent: s.agent(cert, cert.pem),
    method: 'POST',
    body: JSON.stringify(metadata),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
}

function put(uri: string, cert: Issued, token: string, metadata: Record<string, unknown>): Promise<JsonResponse> {
  return httpsJson(uri, {
    agent: s.agent(cert, cert.pem),
    method: 'PUT',
    body: JSON.stringify(metadata),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
}

const selfSignedAt = (jwksUri: string) => ({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks_uri: jwksUri, tls_client_certificate_bound_access_tokens: true });

/** What a refusal must leave unchanged: every client, registration, token use and audit row. */
async function snapshot(): Promise<unknown> {
  const db = s.database.db;
  const rows = async (table: string, order: string) => (await db(table).select('*').orderBy(order)).map((r: Record<string, unknown>) => JSON.stringify(r));
  return {
    clients: await rows('clients', 'client_id'),
    registrations: await rows('client_registrations', 'client_id'),
    tokens: await rows('initial_access_tokens', 'id'),
    audit: (await db('audit_log').count({ n: '*' }))[0],
  };
}

/** Refused with invalid_client_metadata about jwks_uri, nothing changed; returns the description. */
async function expectRefusedUnchanged(attempt: () => Promise<JsonResponse>): Promise<string> {
  const before = await snapshot();
  const res = await attempt();
  expect(res.status, res.text).toBe(400);
  expect(res.body.error).toBe('invalid_client_metadata');
  const description = String(res.body.error_description);
  expect(description).toMatch(/^jwks_uri: /);
  expect(await snapshot()).toEqual(before);
  return description;
}

beforeAll(async () => {
  pki = await createTestPki();
  publisher = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, (req, res) => {
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    fetches++;
    res.writeHead(published.status, { 'content-type': 'application/jwk-set+json' }).end(published.body);
  });
  await new Promise<void>((resolve) => publisher.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(publisher.address() as AddressInfo).port}`;
  const caFile = path.join(mkdtempSync(path.join(tmpdir(), 'certbound-dcr-jwks-uri-')), 'outbound-ca.pem');
  writeFileSync(caFile, pki.root.pem);
  s = await startTestServer({ pki, configOverrides: { outboundCaFile: caFile, jwksUriAllowedRanges: LOOPBACK } });
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
});
afterAll(async () => {
  await s?.close();
  await new Promise<void>((resolve) => (publisher ? publisher.close(() => resolve()) : resolve()));
});

describe('self_signed_tls_client_auth registration with jwks_uri', () => {
  it('SS-4/SS-7: the set is fetched once at registration; the presented certificate is one of its x5c; the client gets a bound token at once', async () => {
    const device = await selfSigned({ subject: [{ CN: ['dcr-published'] }] });
    const spare = await selfSigned({ subject: [{ CN: ['dcr-published'] }] });
    await publish(spare, device);
    const before = fetches;
    const res = await register(device, await iat(), selfSignedAt(`${base}/jwks.json`));
    expect(res.status, res.text).toBe(201);
    expect(fetches - before).toBe(1);
    expect(res.body).toMatchObject({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks_uri: `${base}/jwks.json` });
    expect(res.body.jwks).toBeUndefined();
    const clientId = String(res.body.client_id);
    expect(await s.admin.showClient(clientId)).toMatchObject({ authMethod: 'self_signed_tls_client_auth', jwks: null, jwksUri: `${base}/jwks.json` });
    const issued = await s.token(device, { grant_type: 'client_credentials', client_id: clientId }, { chain: device.pem });
    await expectIssuedToken(s, issued, { clientId, presented: device, chain: device.pem, scopes: ['read'], aud: API });
  });

  it('SS-7: a certificate that is not one of the published x5c is refused, naming jwks_uri; nothing stored', async () => {
    const device = await selfSigned({ subject: [{ CN: ['dcr-unpublished'] }] });
    const other = await selfSigned({ subject: [{ CN: ['dcr-unpublished'] }] });
    await publish(other);
    const token = await iat();
    const description = await expectRefusedUnchanged(() => register(device, token, selfSignedAt(`${base}/jwks.json`)));
    expect(description).toContain(`is not one of the certificates published at ${base}/jwks.json`);
  });

  it('SS-4: an unreachable jwks_uri, one that answers 404, and a refused address are refused, naming jwks_uri; nothing stored', async () => {
    const device = await selfSigned({ subject: [{ CN: ['dcr-unreachable'] }] });
    const token = await iat();
    // A port nothing listens on: the publisher's, once it is closed, is not reliable; port 1 on loopback is.
    const unreachable = await expectRefusedUnchanged(() => register(device, token, selfSignedAt('https://localhost:1/jwks.json')));
    expect(unreachable).toContain('The jwks_uri https://localhost:1/jwks.json cannot be used: no JWKS could be fetched from localhost:1');
    published = { status: 404, body: '' };
    expect(await expectRefusedUnchanged(() => register(device, token, selfSignedAt(`${base}/jwks.json`)))).toContain('cannot be used: HTTP 404');
    const refused = await expectRefusedUnchanged(() => register(device, token, selfSignedAt('https://10.0.0.1/jwks.json')));
    expect(refused).toContain('10.0.0.1 is a private address; certbound fetches only public addresses unless the range is allowed by CERTBOUND_JWKS_URI_ALLOWED_RANGES');
  });

  it('SS-4/SS-7: an RFC 7592 PUT fetches the set again: a set without the certificate is refused, nothing changed; with it the update is accepted', async () => {
    const device = await selfSigned({ subject: [{ CN: ['dcr-put'] }] });
    const other = await selfSigned({ subject: [{ CN: ['dcr-put'] }] });
    await publish(device);
    const res = await register(device, await iat(), selfSignedAt(`${base}/jwks.json`));
    expect(res.status, res.text).toBe(201);
    const uri = String(res.body.registration_client_uri);
    const rat = String(res.body.registration_access_token);
    const metadata = { client_id: res.body.client_id, ...selfSignedAt(`${base}/jwks.json`), scope: 'read' };
    await publish(other);
    await expectRefusedUnchanged(() => put(uri, device, rat, metadata));
    await publish(device, other);
    const before = fetches;
    const updated = await put(uri, device, rat, metadata);
    expect(updated.status, updated.text).toBe(200);
    expect(fetches - before).toBe(1);
    expect(updated.body).toMatchObject({ jwks_uri: `${base}/jwks.json`, scope: 'read' });
  });
});
