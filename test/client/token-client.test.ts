/**
 * certbound/client against a scripted authorization server over real mTLS (fake-as.ts): discovery order
 * and the issuer check, the mTLS alias, retries of network errors and 5xx only, typed refusals, the
 * fail-closed binding check, the cache key, single-flight, and renewal ahead of expiry (fake clock).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenClient, type TokenClient, type TokenClientOptions } from '../../src/client/index.js';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { caught, testTokenClient } from '../helpers/client.js';
import { createTestPki, type Issued, type TestPki } from '../helpers/pki.js';
import { type FakeAs, startFakeAs } from './fake-as.js';

let pki: TestPki;
let as: FakeAs;
let cert: Issued;
let other: Issued;
const clients: TokenClient[] = [];

/** A client of the fake AS presenting `cert` (leaf + intermediate), with fast retries. */
function client(overrides: Partial<TokenClientOptions> = {}): TokenClient {
  return testTokenClient({ issuer: as.issuer, pki, cert, retries: 2, opened: clients }, overrides);
}

beforeAll(async () => {
  pki = await createTestPki();
  cert = await pki.client({ subject: [{ CN: ['app'] }] });
  other = await pki.client({ subject: [{ CN: ['other'] }] });
});
beforeEach(async () => {
  as = await startFakeAs(pki);
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await as.close();
});

describe('discovery', () => {
  it('AL-3: reads RFC 8414 metadata and sends the token request to the mTLS alias, with the certificate', async () => {
    const c = client();
    const token = await c.getToken({ resource: 'https://api.example', scope: 'b a' });
    expect(as.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /.well-known/oauth-authorization-server', 'POST /mtls/token']);
    const [request] = as.tokenRequests();
    expect(request!.thumbprint).toBe(x5tS256(cert.der));
    expect(Object.fromEntries(request!.body)).toEqual({ grant_type: 'client_credentials', client_id: 'app', scope: 'a b', resource: 'https://api.example' });
    expect(token).toMatchObject({ tokenType: 'Bearer', thumbprint: x5tS256(cert.der), scope: 'a b' });
    expect((await c.discover()).tokenEndpoint).toBe(`${as.issuer}/mtls/token`);
  });

  it('falls back to the OpenID configuration, and uses token_endpoint when there is no alias', async () => {
    as.rfc8414Status = 404;
    as.metadata = { issuer: as.issuer, token_endpoint: `${as.issuer}/token` };
    await client().getToken();
    expect(as.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /.well-known/oauth-authorization-server', 'GET /.well-known/openid-configuration', 'POST /token']);
  });

  it('ISSUER_MISMATCH: metadata naming another issuer is refused and no token is requested (RFC 8414 §3.3)', async () => {
    as.metadata = { ...as.metadata, issuer: 'https://evil.example' };
    const err = await caught(client().getToken());
    expect(err.code).toBe('ISSUER_MISMATCH');
    expect(err.message).toContain('"https://evil.example"');
    expect(err.hint).toMatch(/Configure the issuer exactly/);
    expect(as.tokenRequests()).toEqual([]);
  });

  it('DISCOVERY_FAILED when no metadata is served (5xx retried first); the next call discovers again and succeeds', async () => {
    as.rfc8414Status = 404;
    as.openidStatus = 503;
    const c = client();
    const err = await caught(c.getToken());
    expect(err.code).toBe('DISCOVERY_FAILED');
    expect(err.message).toContain(`${as.issuer}/.well-known/oauth-authorization-server: HTTP 404`);
    expect(err.message).toContain(`${as.issuer}/.well-known/openid-configuration: HTTP 503`);
    expect(as.received.filter((r) => r.path === '/.well-known/openid-configuration')).toHaveLength(3);
    as.openidStatus = 200;
    await expect(c.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(as.tokenRequests()).toHaveLength(1);
  });
});

describe('retries and refusals', () => {
  it('5xx and dropped connections are retried with backoff, then the token comes', async () => {
    as.onToken(async (req, n) =>
      n === 1
        ? { status: 503, json: { error: 'temporarily_unavailable' } }
        : n === 2
          ? 'drop-connection'
          : { status: 200, json: { access_token: await as.jwt({ cnf: { 'x5t#S256': req.thumbprint } }), token_type: 'Bearer', expires_in: 300 } },
    );
    await expect(client().getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(as.tokenRequests()).toHaveLength(3);
  });

  it('retries are bounded: TOKEN_ENDPOINT_UNAVAILABLE after retries + 1 attempts, with the description and ref', async () => {
    as.onToken(() => ({ status: 500, json: { error: 'server_error', error_description: 'an internal error occurred (ref 0badc0de)' } }));
    const err = await caught(client().getToken());
    expect(err).toMatchObject({ code: 'TOKEN_ENDPOINT_UNAVAILABLE', httpStatus: 500, oauthError: 'server_error', ref: '0badc0de' });
    expect(as.tokenRequests()).toHaveLength(3);
  });

  it.each([
    ['invalid_client', 401, /certbound doctor/],
    ['invalid_scope', 400, /scopes the client is registered for/],
    ['invalid_target', 400, /resource the server knows/],
  ])('TOKEN_REFUSED: %s is not retried and carries error, description and ref', async (error, status, hint) => {
    as.onToken(() => ({ status, json: { error, error_description: `refused for a reason (ref 1a2b3c4d)` } }));
    const err = await caught(client().getToken({ scope: 'x' }));
    expect(err).toMatchObject({ code: 'TOKEN_REFUSED', httpStatus: status, oauthError: error, errorDescription: 'refused for a reason (ref 1a2b3c4d)', ref: '1a2b3c4d' });
    expect(err.message).toContain(`${error}: refused for a reason`);
    expect(err.hint).toMatch(hint);
    expect(as.tokenRequests()).toHaveLength(1);
  });

  it('INVALID_TOKEN_RESPONSE: a 200 without a Bearer token is refused', async () => {
    as.onToken(() => ({ status: 200, json: { access_token: 'abc', token_type: 'DPoP', expires_in: 60 } }));
    const err = await caught(client().getToken());
    expect(err.code).toBe('INVALID_TOKEN_RESPONSE');
    expect(err.message).toContain('token_type "DPoP" is not Bearer');
  });
});

describe('fail closed on binding (BT-8, BT-9)', () => {
  it('UNBOUND_TOKEN: a JWT without cnf is never handed out or cached', async () => {
    as.onToken(async () => ({ status: 200, json: { access_token: await as.jwt({}), token_type: 'Bearer', expires_in: 300 } }));
    const c = client();
    const err = await caught(c.getToken());
    expect(err.code).toBe('UNBOUND_TOKEN');
    expect(err.message).toContain('not bound to a certificate');
    expect(err.hint).toMatch(/--bound-tokens on/);
    await caught(c.getToken());
    expect(as.tokenRequests()).toHaveLength(2);
  });

  it("UNBOUND_TOKEN: a JWT bound to another certificate's thumbprint is refused", async () => {
    as.onToken(async () => ({ status: 200, json: { access_token: await as.jwt({ cnf: { 'x5t#S256': x5tS256(other.der) } }), token_type: 'Bearer', expires_in: 300 } }));
    const err = await caught(client().getToken());
    expect(err.code).toBe('UNBOUND_TOKEN');
    expect(err.message).toContain(`cnf.x5t#S256 "${x5tS256(other.der)}", presented ${x5tS256(cert.der)}`);
  });

  it('requireBound: false accepts an unbound JWT; an opaque token cannot be checked and is accepted', async () => {
    as.onToken(async () => ({ status: 200, json: { access_token: await as.jwt({}), token_type: 'Bearer', expires_in: 300 } }));
    await expect(client({ requireBound: false }).getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
    as.onToken(() => ({ status: 200, json: { access_token: 'opaque-token-value', token_type: 'bearer', expires_in: 300 } }));
    await expect(client().getToken()).resolves.toMatchObject({ accessToken: 'opaque-token-value', tokenType: 'Bearer' });
  });
});

describe('cache', () => {
  it('one token per (thumbprint, resource, sorted scopes); scope order and duplicates do not matter', async () => {
    const c = client();
    const a = await c.getToken({ resource: 'https://r1', scope: 'read write' });
    expect(await c.getToken({ resource: 'https://r1', scope: ['write', 'read', 'read'] })).toBe(a);
    expect(await c.getToken({ resource: 'https://r2', scope: 'read write' })).not.toBe(a);
    expect(await c.getToken({ resource: 'https://r1', scope: 'read' })).not.toBe(a);
    expect(as.tokenRequests()).toHaveLength(3);
    // A scope string's normalized form is remembered: asking again with the same strings, in any order, sends nothing.
    expect(await c.getToken({ resource: 'https://r1', scope: 'write  read read' })).toBe(a);
    expect(await c.getToken({ resource: 'https://r1', scope: 'read write' })).toBe(a);
    expect(as.tokenRequests()).toHaveLength(3);
  });

  it('concurrent callers for the same key share one token request', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    as.onToken(async (req) => {
      await gate;
      return { status: 200, json: { access_token: await as.jwt({ cnf: { 'x5t#S256': req.thumbprint } }), token_type: 'Bearer', expires_in: 300 } };
    });
    const c = client();
    await c.discover();
    const calls = Array.from({ length: 20 }, () => c.getToken({ scope: 'read' }));
    await vi.waitFor(() => expect(as.tokenRequests()).toHaveLength(1));
    release();
    const tokens = await Promise.all(calls);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(as.tokenRequests()).toHaveLength(1);
  });

  it('renews ahead of expiry: skew plus jitter before expires_in, never after (fake clock)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2030-01-01T00:00:00Z');
    vi.setSystemTime(start);
    as.onToken(async (req) => ({ status: 200, json: { access_token: await as.jwt({ cnf: { 'x5t#S256': req.thumbprint } }), token_type: 'Bearer', expires_in: 600 } }));
    const c = client({ renewal: { skewSeconds: 60, jitterSeconds: 30 } });
    const first = await c.getToken();
    expect(first.expiresAt).toEqual(new Date(start.getTime() + 600_000));
    vi.setSystemTime(start.getTime() + 509_000); // renewal is due between 510 s and 540 s
    expect(await c.getToken()).toBe(first);
    vi.setSystemTime(start.getTime() + 540_000);
    const second = await c.getToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(as.tokenRequests()).toHaveLength(2);
  });

  it('a short-lived token is renewed at half its lifetime at the latest', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2030, 0, 1);
    vi.setSystemTime(start);
    as.onToken(async (req) => ({ status: 200, json: { access_token: await as.jwt({ cnf: { 'x5t#S256': req.thumbprint } }), token_type: 'Bearer', expires_in: 20 } }));
    const c = client();
    const first = await c.getToken();
    vi.setSystemTime(start + 9_000);
    expect(await c.getToken()).toBe(first);
    vi.setSystemTime(start + 10_000);
    expect(await c.getToken()).not.toBe(first);
  });

  it('while renewing early, an unreachable server leaves the still-valid token in use; a refusal does not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2030, 0, 1);
    vi.setSystemTime(start);
    const c = client({ renewal: { skewSeconds: 60, jitterSeconds: 0 } });
    const first = await c.getToken();
    vi.setSystemTime(start + 250_000);
    as.onToken(() => ({ status: 503, json: { error: 'temporarily_unavailable' } }));
    expect(await c.getToken()).toBe(first);
    as.onToken(() => ({ status: 400, json: { error: 'invalid_client' } }));
    expect((await caught(c.getToken())).code).toBe('TOKEN_REFUSED');
  });

  it('forceRefresh and invalidate() drop the cached token', async () => {
    const c = client();
    const first = await c.getToken();
    const forced = await c.getToken({ forceRefresh: true });
    expect(forced).not.toBe(first);
    expect(await c.getToken()).toBe(forced);
    c.invalidate(forced.accessToken);
    expect(await c.getToken()).not.toBe(forced);
    expect(as.tokenRequests()).toHaveLength(3);
  });
});

describe('credentials', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'certbound-client-'));
  });

  it('CERTIFICATE_UNREADABLE: a missing file or a file without a certificate, named in the message', () => {
    const missing = path.join(dir, 'missing.pem');
    expect(() => createTokenClient({ issuer: as.issuer, clientId: 'app', credentials: { certFile: missing, keyFile: missing } })).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_UNREADABLE', message: expect.stringContaining(missing) }),
    );
    expect(() => createTokenClient({ issuer: as.issuer, clientId: 'app', credentials: { cert: 'not a certificate', key: cert.keyPem } })).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_UNREADABLE', message: expect.stringContaining('holds no PEM certificate') }),
    );
    expect(() => createTokenClient({ issuer: as.issuer, clientId: 'app', credentials: { cert: cert.pem, key: 'garbage' } })).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_UNREADABLE', message: expect.stringContaining('no readable private key') }),
    );
  });

  it("KEY_MISMATCH: another certificate's key is refused before any request", () => {
    expect(() => createTokenClient({ issuer: as.issuer, clientId: 'app', credentials: { cert: cert.pem, key: other.keyPem } })).toThrow(
      expect.objectContaining({ code: 'KEY_MISMATCH', hint: expect.stringContaining('generated with this certificate') }),
    );
    expect(as.received).toEqual([]);
  });

  it('TypeError for options that are wrong in themselves', () => {
    expect(() => createTokenClient({ issuer: 'http://as.example', clientId: 'app', credentials: { cert: cert.pem, key: cert.keyPem } })).toThrow(TypeError);
    expect(() => createTokenClient({ issuer: as.issuer, clientId: '', credentials: { cert: cert.pem, key: cert.keyPem } })).toThrow(/clientId/);
    expect(() => createTokenClient({ issuer: as.issuer, clientId: 'app', credentials: {} as never })).toThrow(/credentials must be/);
  });

  it('CLIENT_CLOSED after close()', async () => {
    const c = client();
    await c.close();
    expect((await caught(c.getToken())).code).toBe('CLIENT_CLOSED');
  });

  it('CLIENT_CLOSED from fetch after close(), even with a token in the cache', async () => {
    const c = client();
    await c.getToken({ resource: 'https://r1', scope: 'read' });
    await c.close();
    expect((await caught(c.fetch(`${as.issuer}/orders`, { resource: 'https://r1', scope: 'read' }))).code).toBe('CLIENT_CLOSED');
  });
});
