/**
 * The authorization server behind a TLS-terminating proxy, without the proxy: real certbound listeners,
 * requests sent from 127.0.0.2 (the trusted proxy address here) or 127.0.0.1 (not trusted) with the
 * headers a proxy would set. test/e2e/proxy/nginx.test.ts runs the same paths through a real nginx.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../helpers/bound-token.js';
import { createCa, createTestPki, generateKeys, type Issued, issueLeaf, selfSigned, type TestPki } from '../helpers/pki.js';
import { nginxEscapedCert, rawHttpsRequest } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const API = 'https://api.example.com';
const TRUSTED = '127.0.0.2';
const UNTRUSTED = '127.0.0.1';
const FORM = (clientId: string) => ({ grant_type: 'client_credentials', client_id: clientId });

function writeTmp(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-proxy-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function lastRefusal(s: TestServer): Record<string, unknown> | undefined {
  return [...s.logs].reverse().find((l) => l.event === 'client_auth_refused');
}

/**
 * 401 invalid_client because no certificate counted (G-2). oidc-provider stops at getCertificate, which
 * records CERT_NOT_PRESENTED on the context without a log line: the ref must not belong to another reason.
 */
function expectNoCertificate(s: TestServer, res: { status: number; body: Record<string, unknown> }): void {
  expect(res.status).toBe(401);
  expect(res.body.error).toBe('invalid_client');
  expect(res.body.access_token).toBeUndefined();
  const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
  expect(ref).toBeDefined();
  expect(s.logs.filter((l) => l.ref === ref && l.reason !== 'CERT_NOT_PRESENTED')).toEqual([]);
}

/** POST /token on the mTLS listener as the proxy (or an impostor) would. */
function viaProxy(s: TestServer, options: { from: string; headers?: [string, string][]; form: Record<string, string>; client?: Issued; listener?: 'main' | 'mtls' }) {
  const base = options.listener === 'main' ? s.handle.mainUrl : s.handle.mtlsUrl;
  return rawHttpsRequest({
    url: `${base}/token`,
    ca: s.pki.root.pem,
    localAddress: options.from,
    headers: options.headers,
    form: options.form,
    ...(options.client ? { cert: s.pki.chainOf(options.client), key: options.client.keyPem } : {}),
  });
}

const nginxHeader = (cert: Issued): [string, string] => ['X-SSL-Client-Cert', nginxEscapedCert(cert.pem)];

async function setupClients(s: TestServer) {
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' }, scopes: ['read'], defaultResource: API }, 'test');
  await s.admin.addClient(
    { clientId: 'pinned', mapping: { kind: 'san_dns', value: 'pinned.example.com', trustAnchor: 'test-root' }, scopes: ['read'], defaultResource: API },
    'test',
  );
}

describe('validate mode (CERTBOUND_PROXY_CHAIN_VALIDATION=validate, nginx header, intermediates file)', () => {
  let s: TestServer;
  let pki: TestPki;
  let billing: Issued;
  let pinned: Issued;
  let deepCa: Issued;

  beforeAll(async () => {
    pki = await createTestPki();
    // A CA below the intermediate, whose pathLenConstraint is 0: any chain through it breaks RFC 5280 §6.1.4.
    deepCa = await createCa({ name: [{ CN: ['Too Deep CA'] }], parent: pki.intermediate });
    s = await startTestServer({
      pki,
      configOverrides: {
        trustedProxies: TRUSTED,
        clientCertHeader: 'nginx',
        proxyChainValidation: 'validate',
        proxyIntermediates: writeTmp('intermediates.pem', pki.intermediate.pem + deepCa.pem),
      },
    });
    await setupClients(s);
    billing = await pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    pinned = await pki.client({ subject: [{ CN: ['pinned'] }], san: [{ type: 'dns', value: 'pinned.example.com' }] });
  });
  afterAll(() => s?.close());

  it('PKI-3/BT-7: a certificate forwarded by the trusted proxy authenticates the client; cnf is its x5t#S256', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(billing)], form: FORM('billing') });
    await expectIssuedToken(s, res, { clientId: 'billing', presented: billing, scopes: ['read'], aud: API });
  });

  it('SC-4/T-1: the same header from a peer that is not a trusted proxy → 400 invalid_request, logged, no token', async () => {
    const res = await viaProxy(s, { from: UNTRUSTED, headers: [nginxHeader(billing)], form: FORM('billing') });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.access_token).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
    expect(lastRefusal(s)).toMatchObject({ reason: 'ERR_FORWARDED_UNTRUSTED_PEER', ref });
  });

  it('SC-4: a verify header alone from an untrusted peer is refused too', async () => {
    const res = await viaProxy(s, { from: UNTRUSTED, headers: [['X-SSL-Client-Verify', 'SUCCESS']], form: FORM('billing') });
    expect(res.status).toBe(400);
    expect(lastRefusal(s)).toMatchObject({ reason: 'ERR_FORWARDED_UNTRUSTED_PEER' });
  });

  it('T-1: a client that connects directly (untrusted peer, no header) still authenticates with its own TLS certificate', async () => {
    const res = await viaProxy(s, { from: UNTRUSTED, client: billing, form: FORM('billing') });
    await expectIssuedToken(s, res, { clientId: 'billing', presented: billing, scopes: ['read'], aud: API });
  });

  it("T-1: from the trusted proxy, the proxy's own TLS client certificate never counts; no header = no certificate", async () => {
    const res = await viaProxy(s, { from: TRUSTED, client: billing, form: FORM('billing') });
    expectNoCertificate(s, res);
    // said in the words of the proxy setup, not of a TLS handshake
    const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
    const line = s.logs.find((l) => l.ref === ref);
    expect(String(line?.msg)).toMatch(new RegExp(`^The trusted proxy \\(${TRUSTED.replace(/\./g, '\\.')}\\) forwarded no client certificate`));
  });

  it('§2.0 rule 4: a repeated certificate header from the trusted proxy → 400 ERR_FORWARDED_DUPLICATE', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(billing), nginxHeader(billing)], form: FORM('billing') });
    expect(res.status).toBe(400);
    expect(lastRefusal(s)).toMatchObject({ reason: 'ERR_FORWARDED_DUPLICATE' });
  });

  it('§2.0 rule 9: a malformed certificate header → 400 ERR_FORWARDED_MALFORMED', async () => {
    const res = await viaProxy(s, {
      from: TRUSTED,
      headers: [['X-SSL-Client-Cert', encodeURIComponent('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n')]],
      form: FORM('billing'),
    });
    expect(res.status).toBe(400);
    expect(lastRefusal(s)).toMatchObject({ reason: 'ERR_FORWARDED_MALFORMED' });
  });

  it('§2.0 rule 8: an underscore spelling of the header is not the header', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [['X_SSL_Client_Cert', nginxEscapedCert(billing.pem)]], form: FORM('billing') });
    expectNoCertificate(s, res);
  });

  it('AL-4/G-2: on the main listener a forwarded certificate is not used', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(billing)], form: FORM('billing'), listener: 'main' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('PKI-1/SC-5/SC-7: right SAN from another CA → UNTRUSTED_ROOT (pkijs path validation against the trust anchors)', async () => {
    const otherRoot = await createCa({ name: [{ CN: ['Staging Root'] }] });
    const forged = await issueLeaf(otherRoot, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(forged)], form: FORM('billing') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'UNTRUSTED_ROOT', client_id: 'billing' });
  });

  it('X-12: an expired forwarded certificate → CERT_EXPIRED', async () => {
    const expired = await pki.client({
      subject: [{ CN: ['billing'] }],
      san: [{ type: 'dns', value: 'billing.example.com' }],
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(expired)], form: FORM('billing') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'CERT_EXPIRED' });
  });

  it('SC-6: a chain that breaks a pathLenConstraint → CHAIN_INVALID (checked on the path pkijs validated)', async () => {
    const deep = await issueLeaf(deepCa, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(deep)], form: FORM('billing') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'CHAIN_INVALID', msg: expect.stringContaining('pathLenConstraint') });
  });

  it('SC-6/H15-4: a leaf whose keyUsage lacks digitalSignature → KEY_USAGE_NO_DIGITAL_SIGNATURE (the leaf policy)', async () => {
    // issueLeaf always sets digitalSignature; this leaf has keyEncipherment only.
    const leaf = await issueLeafWithKeyUsage(pki, new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true));
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(leaf)], form: FORM('billing') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'KEY_USAGE_NO_DIGITAL_SIGNATURE', msg: expect.stringContaining('digitalSignature') });
  });

  it('X-12: a forwarded certificate with serverAuth-only EKU → EKU_NOT_CLIENT_AUTH', async () => {
    const serverOnly = await pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }], eku: ['1.3.6.1.5.5.7.3.1'] });
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(serverOnly)], form: FORM('billing') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'EKU_NOT_CLIENT_AUTH' });
  });

  it('SC-5: SPKI pinning works for forwarded certificates (the anchor pkijs validated to)', async () => {
    const ok = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(pinned)], form: FORM('pinned') });
    await expectIssuedToken(s, ok, { clientId: 'pinned', presented: pinned, scopes: ['read'], aud: API });
    const other = await createTestPki('Other');
    await s.admin.addTrustAnchor({ name: 'other-root', pem: other.root.pem, environment: 'staging' }, 'test');
    await s.handle.reload();
    const fromOther = await other.client({ subject: [{ CN: ['pinned'] }], san: [{ type: 'dns', value: 'pinned.example.com' }] });
    // The other PKI's intermediate is not in CERTBOUND_PROXY_INTERMEDIATES: the path cannot be built.
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(fromOther)], form: FORM('pinned') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'UNTRUSTED_ROOT' });
  });

  it('SS-5: a self-signed client behind the proxy gets a bound token (no chain validation for this method)', async () => {
    const device = await selfSigned({ subject: [{ CN: ['device-1'] }] });
    await s.admin.addClient({ clientId: 'device-1', selfSignedCertPem: device.pem, scopes: ['read'], defaultResource: API }, 'test');
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(device)], form: FORM('device-1') });
    await expectIssuedToken(s, res, { clientId: 'device-1', presented: device, scopes: ['read'], aud: API });
    const other = await selfSigned({ subject: [{ CN: ['device-1'] }] });
    const wrong = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(other)], form: FORM('device-1') });
    expect(wrong.status).toBe(401);
  });
});

async function issueLeafWithKeyUsage(pki: TestPki, keyUsage: x509.Extension): Promise<Issued> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0a1b2c3d',
    subject: 'CN=billing',
    issuer: pki.intermediate.cert.subjectName,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: pki.intermediate.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      keyUsage,
      await x509.AuthorityKeyIdentifierExtension.create(pki.intermediate.cert),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2']),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'billing.example.com' }]),
    ],
  });
  return { cert, keys, pem: `${cert.toString('pem')}\n`, keyPem: '', der: Buffer.from(cert.rawData) };
}

describe('validate mode with an RFC 9440 chain and no intermediates file', () => {
  let s: TestServer;
  let billing: Issued;
  const rfc9440 = (der: Buffer) => `:${der.toString('base64')}:`;

  beforeAll(async () => {
    s = await startTestServer({ configOverrides: { trustedProxies: '127.0.0.2/32, ::ffff:127.0.0.2', clientCertHeader: 'rfc9440' } });
    await setupClients(s);
    billing = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
  });
  afterAll(() => s?.close());

  it('INTERMEDIATE_MISSING: the leaf alone cannot be validated; the log says how to fix it', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [['Client-Cert', rfc9440(billing.der)]], form: FORM('billing') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'INTERMEDIATE_MISSING', msg: expect.stringContaining('CERTBOUND_PROXY_INTERMEDIATES') });
  });

  it('PKI-3: leaf + Client-Cert-Chain validates to the anchor', async () => {
    const res = await viaProxy(s, {
      from: TRUSTED,
      headers: [
        ['Client-Cert', rfc9440(billing.der)],
        ['Client-Cert-Chain', rfc9440(s.pki.intermediate.der)],
      ],
      form: FORM('billing'),
    });
    await expectIssuedToken(s, res, { clientId: 'billing', presented: billing, scopes: ['read'], aud: API });
  });

  it('SC-6: a "CA" that is a leaf certificate (no basicConstraints cA) cannot issue → refused', async () => {
    const fakeCa = await s.pki.client({ subject: [{ CN: ['not a CA'] }] });
    const issued = await issueLeaf(fakeCa, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await viaProxy(s, {
      from: TRUSTED,
      headers: [
        ['Client-Cert', rfc9440(issued.der)],
        ['Client-Cert-Chain', `${rfc9440(fakeCa.der)}, ${rfc9440(s.pki.intermediate.der)}`],
      ],
      form: FORM('billing'),
    });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: expect.stringMatching(/CHAIN_INVALID|UNTRUSTED_ROOT/) });
  });

  it('X-10: a forwarded chain longer than 5 certificates → CHAIN_TOO_LONG', async () => {
    const chain = Array.from({ length: 5 }, () => rfc9440(s.pki.intermediate.der)).join(', ');
    const res = await viaProxy(s, {
      from: TRUSTED,
      headers: [
        ['Client-Cert', rfc9440(billing.der)],
        ['Client-Cert-Chain', chain],
      ],
      form: FORM('billing'),
    });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'CHAIN_TOO_LONG' });
  });
});

describe('proxy-verified mode (the proxy validates; X-SSL-Client-Verify from the trusted peer)', () => {
  let s: TestServer;
  let billing: Issued;
  let pinned: Issued;

  beforeAll(async () => {
    const pki = await createTestPki();
    s = await startTestServer({
      pki,
      configOverrides: {
        trustedProxies: TRUSTED,
        clientCertHeader: 'nginx:X-Client-Cert',
        proxyChainValidation: 'proxy-verified',
        proxyVerifyHeader: 'X-Client-Verify:SUCCESS',
        proxyIntermediates: writeTmp('intermediates.pem', pki.intermediate.pem),
      },
    });
    await setupClients(s);
    billing = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    pinned = await s.pki.client({ subject: [{ CN: ['pinned'] }], san: [{ type: 'dns', value: 'pinned.example.com' }] });
  });
  afterAll(() => s?.close());

  const cert = (c: Issued): [string, string] => ['X-Client-Cert', nginxEscapedCert(c.pem)];

  it('PKI-3: verify header SUCCESS → authenticated', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [cert(billing), ['X-Client-Verify', 'SUCCESS']], form: FORM('billing') });
    await expectIssuedToken(s, res, { clientId: 'billing', presented: billing, scopes: ['read'], aud: API });
  });

  it('PKI-3: FAILED or missing verify header → PROXY_NOT_VERIFIED', async () => {
    for (const headers of [[cert(billing), ['X-Client-Verify', 'FAILED:unable to get issuer certificate']], [cert(billing)]] as [string, string][][]) {
      const res = await viaProxy(s, { from: TRUSTED, headers, form: FORM('billing') });
      expect(res.status).toBe(401);
      expect(lastRefusal(s)).toMatchObject({ reason: 'PROXY_NOT_VERIFIED' });
    }
  });

  it('the configured header name is the only one read: X-SSL-Client-Cert is ignored here', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [nginxHeader(billing), ['X-Client-Verify', 'SUCCESS']], form: FORM('billing') });
    expectNoCertificate(s, res);
  });

  it('SC-5: pinning works in proxy-verified mode; a certificate the proxy vouched for but that does not chain to a known anchor never satisfies a pin', async () => {
    await expectIssuedToken(s, await viaProxy(s, { from: TRUSTED, headers: [cert(pinned), ['X-Client-Verify', 'SUCCESS']], form: FORM('pinned') }), {
      clientId: 'pinned',
      presented: pinned,
      scopes: ['read'],
      aud: API,
    });
    const other = await createTestPki('Other');
    const foreign = await other.client({ subject: [{ CN: ['pinned'] }], san: [{ type: 'dns', value: 'pinned.example.com' }] });
    const res = await viaProxy(s, { from: TRUSTED, headers: [cert(foreign), ['X-Client-Verify', 'SUCCESS']], form: FORM('pinned') });
    expect(res.status).toBe(401);
    expect(lastRefusal(s)).toMatchObject({ reason: 'TRUST_ANCHOR_UNKNOWN' });
  });

  it('a repeated verify header → 400 ERR_FORWARDED_DUPLICATE', async () => {
    const res = await viaProxy(s, { from: TRUSTED, headers: [cert(billing), ['X-Client-Verify', 'SUCCESS'], ['X-Client-Verify', 'SUCCESS']], form: FORM('billing') });
    expect(res.status).toBe(400);
    expect(lastRefusal(s)).toMatchObject({ reason: 'ERR_FORWARDED_DUPLICATE' });
  });
});

describe('forwarding not configured (the default)', () => {
  let s: TestServer;
  let billing: Issued;
  let other: Issued;

  beforeAll(async () => {
    s = await startTestServer();
    await setupClients(s);
    billing = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    other = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
  });
  afterAll(() => s?.close());

  it('T-1/BT-7: forwarded-certificate headers are ignored, from any peer: no TLS certificate → invalid_client', async () => {
    for (const from of [TRUSTED, UNTRUSTED]) {
      const res = await viaProxy(s, {
        from,
        headers: [nginxHeader(billing), ['Client-Cert', `:${billing.der.toString('base64')}:`], ['X-SSL-Client-Verify', 'SUCCESS']],
        form: FORM('billing'),
      });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  it('BT-7: with a TLS certificate, the token is bound to it, never to the header', async () => {
    const res = await viaProxy(s, { from: UNTRUSTED, client: billing, headers: [nginxHeader(other)], form: FORM('billing') });
    await expectIssuedToken(s, res, { clientId: 'billing', presented: billing, scopes: ['read'], aud: API });
  });
});
