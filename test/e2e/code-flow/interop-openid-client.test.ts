/**
 * Interop: a client nobody here wrote, openid-client v6, completes the authorization code flow against
 * certbound: discovery from certbound, a pushed authorization request (RFC 9126) and the token requests
 * on the mTLS aliases (RFC 8705 §5, `use_mtls_endpoint_aliases`) with `tls_client_auth` over a custom
 * fetch presenting the client certificate, PKCE S256, the end user signing in at the upstream provider
 * (a real oidc-provider, test/support/upstream-op.ts) through the test user agent, the code exchange and
 * a refresh. Every token is bound to the certificate (`cnf.x5t#S256`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { clients as clientStore, upstreamProviders } from '../../../src/store/index.js';
import { httpsJson } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { type CodeFlowDriver, createCodeFlowDriver } from '../../support/code-flow-driver.js';
import { createUpstreamCa, startUpstreamOp, type UpstreamOp } from '../../support/upstream-op.js';

const API = 'https://api.example.com';
const REDIRECT_URI = 'https://app.example.com/callback';
/** certbound's callback from the upstream provider, on its main listener. */
const UPSTREAM_CALLBACK_PATH = '/interaction/callback';

let s: TestServer;
let op: UpstreamOp;
let webApp: Issued;
let driver: CodeFlowDriver;
let caDir: string | undefined;
const agents: Agent[] = [];

/** openid-client's fetch: trusts certbound's test root and presents `certificate` wherever a server asks for one (the mTLS listener). */
function fetchPresenting(certificate: Issued): client.CustomFetch {
  const dispatcher = new Agent({ connect: { ca: s.pki.root.pem, cert: s.pki.chainOf(certificate), key: certificate.keyPem } });
  agents.push(dispatcher);
  return (url, init) => undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}

/** The access token's claims, verified with certbound's keys: for the API, of web-app, bound to web-app's certificate (RFC 8705 §3.1). */
async function boundClaims(token: string): Promise<Record<string, unknown>> {
  const keys = await httpsJson(`${s.handle.mainUrl}/jwks`, { agent: s.agent() });
  const { payload } = await jwtVerify(token, createLocalJWKSet(keys.body as never), { issuer: s.issuer, audience: API, typ: 'at+jwt' });
  expect(payload).toMatchObject({ client_id: 'web-app', scope: 'read', cnf: { 'x5t#S256': x5tS256(webApp.der) } });
  return payload;
}

beforeAll(async () => {
  // As a deployment trusts its identity provider's private CA: CERTBOUND_OUTBOUND_CA_FILE, read by the upstream login.
  caDir = mkdtempSync(path.join(tmpdir(), 'certbound-upstream-ca-'));
  const upstreamCa = await createUpstreamCa();
  const caFile = path.join(caDir, 'upstream-ca.pem');
  writeFileSync(caFile, upstreamCa.pem);
  s = await startTestServer({ configOverrides: { outboundCaFile: caFile } });
  op = await startUpstreamOp({ redirectUris: [`${s.issuer}${UPSTREAM_CALLBACK_PATH}`], ca: upstreamCa });
  await upstreamProviders.put(s.database.db, op.providerRow('client_secret_basic'), undefined);

  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  const added = await s.admin.addClient({ clientId: 'web-app', mapping: { kind: 'san_dns', value: 'web-app.example.com' }, scopes: ['read'], defaultResource: API }, 'test');
  await clientStore.update(s.database.db, 'web-app', {
    metadata: { ...added.metadata, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], require_pushed_authorization_requests: true },
  });
  webApp = await s.pki.client({ subject: [{ CN: ['web-app'] }], san: [{ type: 'dns', value: 'web-app.example.com' }] });
  driver = createCodeFlowDriver({ ca: [s.pki.root.pem, op.ca] });
});

afterAll(async () => {
  await driver?.close();
  await Promise.all(agents.map((a) => a.close().catch(() => {})));
  await op?.stop();
  await s?.close();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

describe('openid-client v6 as a client of certbound (authorization code flow)', () => {
  it('BT-1/BT-8: discovery, PAR, PKCE, tls_client_auth on the mTLS aliases, code exchange and refresh; every access token bound to the certificate', async () => {
    const config = await client.discovery(new URL(s.issuer), 'web-app', { use_mtls_endpoint_aliases: true }, client.TlsClientAuth(), {
      [client.customFetch]: fetchPresenting(webApp),
    });
    const metadata = config.serverMetadata();
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.mtls_endpoint_aliases?.pushed_authorization_request_endpoint).toBe(`${s.mtlsUrl}/request`);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);

    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorizationUrl = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'read',
      resource: API,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    expect(authorizationUrl.origin).toBe(new URL(s.issuer).origin);
    expect(authorizationUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const outcome = await driver.authorize(authorizationUrl, { redirectUri: REDIRECT_URI });
    expect(outcome.page?.html).toBeUndefined();
    expect(outcome.signedInUpstream).toBe(true);
    expect(outcome.consentAnswered).toBe(true);
    expect(outcome).toMatchObject({ state, iss: s.issuer, error: undefined });

    const tokens = await client.authorizationCodeGrant(config, outcome.redirect as URL, { pkceCodeVerifier: verifier, expectedState: state });
    // openid-client lowercases token_type.
    expect(tokens.token_type).toBe('bearer');
    const claims = await boundClaims(tokens.access_token);
    expect(claims.sub).toBe('alice');
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string, { resource: API });
    await boundClaims(refreshed.access_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
  });
});
