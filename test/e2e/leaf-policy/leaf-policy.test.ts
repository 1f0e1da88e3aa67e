/**
 * H15-4: one leaf policy on every path. Each certificate below breaks one rule and is otherwise a good
 * client certificate from the test PKI; it is presented in a real TLS handshake and forwarded by a
 * trusted proxy (RFC 9440 headers, nginx header), and both refusals carry the same reason code, which
 * `certbound doctor` explains. The per-anchor `allow_missing_eku` opt-out is set through the CLI and the
 * admin API and allows a leaf with no EKU extension, never one whose EKU lacks clientAuth.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { createAdminCaller } from '../../helpers/admin.js';
import { createTestPki, EKU_CLIENT_AUTH, EKU_SERVER_AUTH, generateKeys, type Issued, type TestPki } from '../../helpers/pki.js';
import { nginxEscapedCert, rawHttpsRequest } from '../../helpers/proxy.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const TRUSTED = '127.0.0.2';
const DIRECT = '127.0.0.1';
const DAY = 86_400_000;
const ANY_EKU = '2.5.29.37.0';

let s: TestServer;
let dir: string;
let clientNo = 0;

/** A leaf of `issuer` (a CA of a TestPki) with exactly these extensions (no defaults), SAN dns `name`. */
async function leafWith(pki: TestPki, name: string, extensions: x509.Extension[]): Promise<Issued> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `7${Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString('hex')}`,
    subject: `CN=${name}`,
    issuer: pki.intermediate.cert.subjectName,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: pki.intermediate.keys.privateKey,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(pki.intermediate.cert),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `${name}.example.com` }]),
      ...extensions,
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { cert, keys, pem: `${cert.toString('pem')}\n`, keyPem, der: Buffer.from(cert.rawData) };
}

const bc = (ca: boolean) => new x509.BasicConstraintsExtension(ca, undefined, true);
const ku = (flags: number) => new x509.KeyUsagesExtension(flags, true);
const eku = (...oids: string[]) => new x509.ExtendedKeyUsageExtension(oids);
const GOOD = () => [bc(false), ku(x509.KeyUsageFlags.digitalSignature), eku(EKU_CLIENT_AUTH)];

/** Registers a client mapped to the leaf's DNS SAN. */
async function clientFor(leaf: Issued): Promise<string> {
  const clientId = `leaf-${++clientNo}`;
  const dns = leaf.cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items[0]!.value;
  await s.admin.addClient({ clientId, mapping: { kind: 'san_dns', value: dns }, scopes: ['read'], defaultResource: API }, 'test');
  return clientId;
}

function reasonOf(res: { body: Record<string, unknown> }): unknown {
  const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
  return s.logs.find((l) => l.event === 'client_auth_refused' && l.ref === ref)?.reason;
}

/** The outcome on the three paths: direct TLS, RFC 9440 headers and the nginx header, from the trusted proxy. */
async function onEveryPath(pki: TestPki, leaf: Issued, clientId: string): Promise<{ status: number; reason: unknown }[]> {
  const form = { grant_type: 'client_credentials', client_id: clientId };
  const url = `${s.handle.mtlsUrl}/token`;
  const b64 = (der: Buffer) => `:${der.toString('base64')}:`;
  const results = [
    await rawHttpsRequest({ url, ca: s.pki.root.pem, localAddress: DIRECT, form, cert: leaf.pem + pki.intermediate.pem, key: leaf.keyPem }),
    await rawHttpsRequest({
      url,
      ca: s.pki.root.pem,
      localAddress: TRUSTED,
      form,
      headers: [
        ['Client-Cert', b64(leaf.der)],
        ['Client-Cert-Chain', b64(pki.intermediate.der)],
      ],
    }),
  ];
  return results.map((r) => ({ status: r.status, reason: r.status === 200 ? undefined : reasonOf(r) }));
}

async function doctor(leaf: Issued, pki: TestPki, clientId: string) {
  const cert = path.join(dir, `${clientId}.pem`);
  const chain = path.join(dir, `${clientId}-chain.pem`);
  writeFileSync(cert, leaf.pem);
  writeFileSync(chain, pki.intermediate.pem);
  const out: string[] = [];
  const code = await runCli(
    ['doctor', '--cert', cert, '--chain', chain, '--client-id', clientId, '--json'],
    { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir },
    { out: (t) => out.push(t), err: () => {} },
  );
  return { code, diagnosis: JSON.parse(out.join('\n')) as { would_authenticate: boolean; code: string | null; hint: string | null; findings: { code: string }[] } };
}

let legacy: TestPki;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-leaf-'));
  s = await startTestServer({ configOverrides: { trustedProxies: `${TRUSTED}/32`, clientCertHeader: 'rfc9440' } });
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  legacy = await createTestPki('Legacy');
}, 30_000);
afterAll(() => s?.close());

describe('one leaf policy on every path (H15-4, SC-6, X-11, X-12, PKI-1, PKI-3)', () => {
  it.each([
    ['SC-6: a CA certificate as the leaf (basicConstraints cA=TRUE)', 'LEAF_IS_CA', () => [bc(true), ku(x509.KeyUsageFlags.digitalSignature), eku(EKU_CLIENT_AUTH)]],
    ['SC-6: keyCertSign without cA', 'LEAF_IS_CA', () => [bc(false), ku(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign), eku(EKU_CLIENT_AUTH)]],
    ['X-12: anyExtendedKeyUsage as the only EKU', 'EKU_NOT_CLIENT_AUTH', () => [bc(false), ku(x509.KeyUsageFlags.digitalSignature), eku(ANY_EKU)]],
    ['X-12: serverAuth only', 'EKU_NOT_CLIENT_AUTH', () => [bc(false), ku(x509.KeyUsageFlags.digitalSignature), eku(EKU_SERVER_AUTH)]],
    ['X-12: no EKU extension (the anchor does not allow it)', 'EKU_MISSING', () => [bc(false), ku(x509.KeyUsageFlags.digitalSignature)]],
    ['SC-6: keyUsage without digitalSignature', 'KEY_USAGE_NO_DIGITAL_SIGNATURE', () => [bc(false), ku(x509.KeyUsageFlags.keyEncipherment), eku(EKU_CLIENT_AUTH)]],
    ['SC-6: an unknown critical extension', 'UNKNOWN_CRITICAL_EXTENSION', () => [...GOOD(), new x509.Extension('1.3.6.1.4.1.55738.666.1', true, new Uint8Array([5, 0]))]],
  ] as const)('H15-4/%s → %s on direct TLS and from the proxy; doctor explains it', async (_label, code, extensions) => {
    const leaf = await leafWith(s.pki, `case${clientNo + 1}`, extensions());
    const clientId = await clientFor(leaf);
    expect(await onEveryPath(s.pki, leaf, clientId)).toEqual([
      { status: 401, reason: code },
      { status: 401, reason: code },
    ]);
    const { code: exit, diagnosis } = await doctor(leaf, s.pki, clientId);
    expect(exit).toBe(1);
    expect(diagnosis).toMatchObject({ would_authenticate: false, code });
    expect(diagnosis.hint).toMatch(/Reissue|Use a client|end-entity/);
  });

  it('X-11/H15-4: a malformed e-mail SAN next to a valid one → ERR_CERT_SAN_MALFORMED on both paths', async () => {
    const name = `case${clientNo + 1}`;
    const leaf = await leafWith(s.pki, name, [...GOOD()]);
    // a second certificate, same key rules, with the extra SAN entries
    const bad = await leafWithSans(s.pki, name, ['ok@example.com', 'bad@address@example.com']);
    const clientId = await clientFor(leaf);
    expect(await onEveryPath(s.pki, bad, clientId)).toEqual([
      { status: 401, reason: 'ERR_CERT_SAN_MALFORMED' },
      { status: 401, reason: 'ERR_CERT_SAN_MALFORMED' },
    ]);
  });

  it('PKI-1: the same certificate with every rule met authenticates on both paths (control)', async () => {
    const leaf = await leafWith(s.pki, `case${clientNo + 1}`, GOOD());
    const clientId = await clientFor(leaf);
    expect(await onEveryPath(s.pki, leaf, clientId)).toEqual([
      { status: 200, reason: undefined },
      { status: 200, reason: undefined },
    ]);
  });

  it('H15-4: the nginx header format applies the same policy (proxy-verified by header is not a way around it)', async () => {
    const s2 = await startTestServer({ pki: s.pki, configOverrides: { trustedProxies: `${TRUSTED}/32`, clientCertHeader: 'nginx', proxyChainValidation: 'proxy-verified' } });
    try {
      await s2.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
      const leaf = await leafWith(s.pki, 'nginx-ca', [bc(true), ku(x509.KeyUsageFlags.digitalSignature), eku(EKU_CLIENT_AUTH)]);
      await s2.admin.addClient({ clientId: 'nginx-ca', mapping: { kind: 'san_dns', value: 'nginx-ca.example.com' }, scopes: ['read'], defaultResource: API }, 'test');
      const res = await rawHttpsRequest({
        url: `${s2.handle.mtlsUrl}/token`,
        ca: s.pki.root.pem,
        localAddress: TRUSTED,
        form: { grant_type: 'client_credentials', client_id: 'nginx-ca' },
        headers: [
          ['X-SSL-Client-Cert', nginxEscapedCert(leaf.pem)],
          ['X-SSL-Client-Verify', 'SUCCESS'],
        ],
      });
      expect(res.status).toBe(401);
      const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
      expect(s2.logs.find((l) => l.event === 'client_auth_refused' && l.ref === ref)).toMatchObject({ reason: 'LEAF_IS_CA' });
    } finally {
      await s2.close();
    }
  });
});

describe('allow_missing_eku, per trust anchor (H15-4, X-12)', () => {
  it('H15-4: certbound trust add --allow-no-eku stores the setting; trust list --json shows it', async () => {
    writeFileSync(path.join(dir, 'legacy-root.pem'), legacy.root.pem);
    const out: string[] = [];
    const env = { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir };
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await runCli(['trust', 'add', '--name', 'legacy-root', '--cert', path.join(dir, 'legacy-root.pem'), '--allow-no-eku'], env, io)).toBe(0);
    expect(out.join('\n')).toMatch(/without EKU are accepted/);
    out.length = 0;
    expect(await runCli(['trust', 'list', '--json'], env, io)).toBe(0);
    const list = JSON.parse(out.join('\n')) as { name: string; allow_missing_eku: boolean }[];
    expect(list.find((a) => a.name === 'legacy-root')?.allow_missing_eku).toBe(true);
    expect(list.find((a) => a.name === 'test-root')?.allow_missing_eku).toBe(false);
    await s.handle.reload();
  });

  it('X-12/H15-4: under that anchor a leaf with no EKU authenticates on both paths; doctor agrees', async () => {
    const leaf = await leafWith(legacy, `legacy${clientNo + 1}`, [bc(false), ku(x509.KeyUsageFlags.digitalSignature)]);
    const clientId = await clientFor(leaf);
    expect(await onEveryPath(legacy, leaf, clientId)).toEqual([
      { status: 200, reason: undefined },
      { status: 200, reason: undefined },
    ]);
    expect((await doctor(leaf, legacy, clientId)).diagnosis).toMatchObject({ would_authenticate: true, code: null });
  });

  it('X-12/H15-4: the opt-out never allows an EKU without clientAuth (serverAuth only, anyExtendedKeyUsage only)', async () => {
    for (const oids of [[EKU_SERVER_AUTH], [ANY_EKU]]) {
      const leaf = await leafWith(legacy, `legacy${clientNo + 1}`, [bc(false), ku(x509.KeyUsageFlags.digitalSignature), eku(...oids)]);
      const clientId = await clientFor(leaf);
      expect(await onEveryPath(legacy, leaf, clientId)).toEqual([
        { status: 401, reason: 'EKU_NOT_CLIENT_AUTH' },
        { status: 401, reason: 'EKU_NOT_CLIENT_AUTH' },
      ]);
    }
  });

  it('H15-4: the admin API takes allow_missing_eku (schema and OpenAPI) and returns it; a wrong type is refused and stores nothing', async () => {
    const ops = await createAdminCaller(s, ['certbound:admin']);
    const other = await createTestPki('Other');
    const wrong = await ops.call('POST', '/admin/trust-anchors', { body: { name: 'other-root', pem: other.root.pem, allow_missing_eku: 'yes' } });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toMatch(/allow_missing_eku/);
    expect((await s.admin.listTrustAnchors()).some((a) => a.name === 'other-root')).toBe(false);
    const created = await ops.call('POST', '/admin/trust-anchors', { body: { name: 'other-root', pem: other.root.pem, allow_missing_eku: true } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'other-root', allow_missing_eku: true });
    const listed = await ops.call('GET', '/admin/trust-anchors');
    expect(listed.body.items?.find((a) => a.name === 'test-root')).toMatchObject({ allow_missing_eku: false });
    const openapi = await ops.call('GET', '/admin/openapi.json');
    expect(JSON.stringify(openapi.body)).toMatch(/allow_missing_eku/);
  });
});

describe('self_signed_tls_client_auth (SS-2, SS-3): the certificate is registered, not judged by the leaf rules', () => {
  it('SS-2/H15-4: a self-signed CA:TRUE certificate without EKU (openssl req -x509 style) authenticates the client it is registered for, on both paths', async () => {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=device-ca-style',
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
      extensions: [bc(true)],
    });
    const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
    const device: Issued = {
      cert,
      keys,
      pem: `${cert.toString('pem')}\n`,
      keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8
        .toString('base64')
        .replace(/(.{64})/g, '$1\n')
        .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`,
      der: Buffer.from(cert.rawData),
    };
    await s.admin.addClient({ clientId: 'device-ca-style', selfSignedCertPem: device.pem, scopes: ['read'], defaultResource: API }, 'test');
    const form = { grant_type: 'client_credentials', client_id: 'device-ca-style' };
    const url = `${s.handle.mtlsUrl}/token`;
    const direct = await rawHttpsRequest({ url, ca: s.pki.root.pem, localAddress: DIRECT, form, cert: device.pem, key: device.keyPem });
    const proxied = await rawHttpsRequest({ url, ca: s.pki.root.pem, localAddress: TRUSTED, form, headers: [['Client-Cert', `:${device.der.toString('base64')}:`]] });
    expect([direct.status, proxied.status]).toEqual([200, 200]);
  });
});

async function leafWithSans(pki: TestPki, name: string, emails: string[]): Promise<Issued> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `7${Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString('hex')}`,
    subject: `CN=${name}`,
    issuer: pki.intermediate.cert.subjectName,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: pki.intermediate.keys.privateKey,
    extensions: [
      ...GOOD(),
      await x509.AuthorityKeyIdentifierExtension.create(pki.intermediate.cert),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `${name}.example.com` }, ...emails.map((value) => ({ type: 'email' as const, value }))]),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { cert, keys, pem: `${cert.toString('pem')}\n`, keyPem, der: Buffer.from(cert.rawData) };
}
