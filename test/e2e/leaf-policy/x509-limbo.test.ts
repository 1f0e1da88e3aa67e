/**
 * The x509-limbo cases certbound adopts (test/fixtures/x509-limbo, docs/x509-policy.md), run through the
 * one leaf policy and through both paths of a real server: a direct TLS handshake with the case's key,
 * and a trusted proxy's RFC 9440 headers validated by certbound (pkijs plus the anchor's name constraints).
 * Limbo's SERVER verdicts assume serverAuth; EXPECTED says what certbound expects of a CLIENT certificate.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLeafPolicy, parseCertificate, parsePemCertificates, x5tS256 } from '../../../src/pki/index.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { rawHttpsRequest } from '../../helpers/proxy.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

interface LimboCase {
  id: string;
  validation_kind: 'CLIENT' | 'SERVER';
  expected_result: 'SUCCESS' | 'FAILURE';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  peer_certificate_key: string | null;
}

type Expected = {
  /** accept: a token on both paths; otherwise the reason code both paths log. */
  code: 'accept' | string;
  /** Every leaf-policy violation (when the certificate parses), first = the reason. */
  violations?: string[];
  /** The case's anchor is added with allow_missing_eku. */
  allowMissingEku?: boolean;
};

/** What certbound expects; the table in docs/x509-policy.md says the same (checked below). */
const EXPECTED: Record<string, Expected> = {
  'rfc5280::nc::invalid-email-address': { code: 'CHAIN_INVALID', violations: [] },
  'rfc5280::nc::nc-permits-invalid-email-san': { code: 'ERR_CERT_SAN_MALFORMED' },
  'rfc5280::nc::nc-permits-email-exact': { code: 'accept', violations: [] },
  'rfc5280::nc::nc-permits-email-domain': { code: 'accept', violations: [] },
  'rfc5280::nc::nc-permits-email-literal-asterisk-exact-match': { code: 'accept', violations: [] },
  'rfc5280::nc::nc-permits-email-literal-asterisk-rejects-user': { code: 'CHAIN_INVALID', violations: [] },
  'rfc5280::nc::nc-permits-email-literal-asterisk-rejects-subdomain': { code: 'CHAIN_INVALID', violations: [] },
  'rfc5280::nc::nc-permits-email-literal-double-asterisk': { code: 'accept', violations: [] },
  'rfc5280::nc::nc-permits-email-literal-double-asterisk-rejects-single': { code: 'CHAIN_INVALID', violations: [] },
  'rfc5280::nc::nc-permits-email-literal-mid-asterisk': { code: 'accept', violations: [] },
  'rfc5280::eku::ee-wrong-eku': { code: 'accept', violations: [] },
  'rfc5280::eku::ee-without-eku': { code: 'accept', violations: [], allowMissingEku: true },
  'rfc5280::eku::ee-eku-empty': { code: 'ERR_CERT_PARSE' },
  'webpki::eku::ee-anyeku': { code: 'EKU_NOT_CLIENT_AUTH', violations: ['EKU_NOT_CLIENT_AUTH'] },
  'webpki::eku::ee-critical-eku': { code: 'EKU_NOT_CLIENT_AUTH', violations: ['EKU_NOT_CLIENT_AUTH'] },
  'webpki::eku::ee-without-eku': { code: 'EKU_MISSING', violations: ['EKU_MISSING'] },
  'rfc5280::san::malformed': { code: 'ERR_CERT_SAN_MALFORMED' },
  'rfc5280::duplicate-extensions': { code: 'ERR_CERT_SAN_MALFORMED' },
  'webpki::malformed-aia': { code: 'ERR_CERT_PARSE' },
  'rfc5280::ee-critical-aia-invalid': { code: 'EKU_NOT_CLIENT_AUTH', violations: ['EKU_NOT_CLIENT_AUTH', 'UNKNOWN_CRITICAL_EXTENSION'] },
  'rfc5280::unknown-critical-extension-ee': { code: 'EKU_NOT_CLIENT_AUTH', violations: ['EKU_NOT_CLIENT_AUTH', 'UNKNOWN_CRITICAL_EXTENSION'] },
  'rfc5280::nc::not-allowed-in-ee-critical': { code: 'EKU_NOT_CLIENT_AUTH', violations: ['EKU_NOT_CLIENT_AUTH', 'UNKNOWN_CRITICAL_EXTENSION'] },
  'webpki::v1-cert': { code: 'LEAF_NOT_V3', violations: ['LEAF_NOT_V3', 'EKU_MISSING'] },
  'webpki::ee-basicconstraints-ca': { code: 'LEAF_IS_CA', violations: ['LEAF_IS_CA', 'EKU_NOT_CLIENT_AUTH'] },
  'webpki::ca-as-leaf': { code: 'LEAF_IS_CA', violations: ['LEAF_IS_CA', 'EKU_MISSING', 'KEY_USAGE_NO_DIGITAL_SIGNATURE'] },
  'rfc5280::ca-as-leaf': { code: 'LEAF_IS_CA', violations: ['LEAF_IS_CA', 'EKU_MISSING', 'KEY_USAGE_NO_DIGITAL_SIGNATURE'] },
  'rfc5280::leaf-ku-keycertsign': { code: 'LEAF_IS_CA', violations: ['LEAF_IS_CA', 'EKU_NOT_CLIENT_AUTH'] },
  'pathlen::validation-ignores-pathlen-in-leaf': { code: 'LEAF_IS_CA', violations: ['LEAF_IS_CA', 'EKU_MISSING', 'KEY_USAGE_NO_DIGITAL_SIGNATURE'] },
  'rfc5280::no-keyusage': { code: 'EKU_NOT_CLIENT_AUTH', violations: ['EKU_NOT_CLIENT_AUTH'] },
};

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/x509-limbo/cases.json', import.meta.url), 'utf8')) as { testcases: LimboCase[] };
const CASES = fixture.testcases;
const API = 'https://api.example.com';
const TRUSTED = '127.0.0.2';
const DIRECT = '127.0.0.1';
const rfc9440 = (pem: string) => `:${parsePemCertificates(pem)[0]!.toString('base64')}:`;

describe('x509-limbo fixture', () => {
  it('H15-4: every adopted case has an expectation, and every expectation a case', () => {
    expect(CASES.map((c) => c.id).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('H15-4: every adopted case has a private key, so the TLS path is a real handshake', () => {
    expect(CASES.filter((c) => !c.peer_certificate_key).map((c) => c.id)).toEqual([]);
  });

  it('H15-4: docs/x509-policy.md lists every adopted case with the expected outcome', () => {
    const doc = readFileSync(new URL('../../../docs/x509-policy.md', import.meta.url), 'utf8');
    for (const c of CASES) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${c.id}\``));
      expect(row, c.id).toBeDefined();
      expect(row!.split('|')[3]!.trim(), c.id).toBe(EXPECTED[c.id]!.code === 'accept' ? 'accepted' : `\`${EXPECTED[c.id]!.code}\``);
    }
  });
});

describe('x509-limbo through the leaf policy (SC-6, X-11, X-12)', () => {
  it.each(CASES.map((c) => [c.id, c] as const))('H15-4/SC-6: %s', (_id, c) => {
    const expected = EXPECTED[c.id]!;
    if (!expected.violations) {
      expect(() => parseCertificate(c.peer_certificate)).toThrow(expect.objectContaining({ code: expected.code }));
      return;
    }
    const leaf = parseCertificate(c.peer_certificate);
    expect(checkLeafPolicy(leaf, { allowMissingEku: expected.allowMissingEku === true }).map((v) => v.code)).toEqual(expected.violations);
  });
});

describe('x509-limbo on both paths of a real server (PKI-1, PKI-3, SC-7, X-11, X-12)', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({ configOverrides: { trustedProxies: `${TRUSTED}/32`, clientCertHeader: 'rfc9440' } });
    await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
    const added = new Map<string, boolean>();
    for (const [i, c] of CASES.entries()) {
      const allow = EXPECTED[c.id]!.allowMissingEku === true;
      for (const [j, pem] of c.trusted_certs.entries()) {
        const key = x5tS256(parsePemCertificates(pem)[0]!);
        if (added.has(key)) {
          // a root shared by two cases must not need two settings
          expect(added.get(key)).toBe(allow);
          continue;
        }
        added.set(key, allow);
        await s.admin.addTrustAnchor({ name: `limbo-${i}-${j}`, pem, allowMissingEku: allow }, 'test');
      }
    }
    await s.handle.reload();
  }, 60_000);
  afterAll(() => s?.close());

  /** A client for the case: mapped by its subject DN (or a placeholder when the certificate does not parse). */
  async function withClient<T>(c: LimboCase, index: number, run: (clientId: string) => Promise<T>): Promise<T> {
    const clientId = `limbo-${index}`;
    let subject: string | undefined;
    try {
      subject = parseCertificate(c.peer_certificate).subjectRfc4514;
    } catch {}
    const mapping = subject ? { kind: 'subject_dn' as const, value: subject } : { kind: 'san_dns' as const, value: `limbo-${index}.example.com` };
    await s.admin.addClient({ clientId, mapping, scopes: ['read'], defaultResource: API }, 'test');
    try {
      return await run(clientId);
    } finally {
      await s.admin.removeClient(clientId, 'test');
    }
  }

  function refusalOf(ref: string | undefined) {
    return s.logs.find((l) => l.event === 'client_auth_refused' && l.ref === ref);
  }

  async function expectOutcome(res: Awaited<ReturnType<typeof rawHttpsRequest>>, expected: Expected, path: string, clientId: string, leafPem: string): Promise<void> {
    if (expected.code === 'accept') {
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
      await expectIssuedToken(s, res, { clientId, presented: { der: parsePemCertificates(leafPem)[0]! }, scopes: ['read'], aud: API });
      return;
    }
    expect(res.status, path).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
    expect(refusalOf(ref), `${path}: ${JSON.stringify(res.body)}`).toMatchObject({ reason: expected.code });
  }

  it.each(CASES.map((c, i) => [c.id, c, i] as const))('H15-4/PKI-1: %s — direct TLS and the proxy path agree', async (_id, c, i) => {
    const expected = EXPECTED[c.id]!;
    await withClient(c, i, async (clientId) => {
      const form = { grant_type: 'client_credentials', client_id: clientId };
      const chain = c.peer_certificate + c.untrusted_intermediates.join('');
      // Also the certificates OpenSSL cannot verify (a malformed or duplicate SAN, a v1 leaf): the handshake
      // completes and the request is answered (src/server/verify-errors.ts).
      const direct = await rawHttpsRequest({ url: `${s.handle.mtlsUrl}/token`, ca: s.pki.root.pem, localAddress: DIRECT, form, cert: chain, key: c.peer_certificate_key! });
      await expectOutcome(direct, expected, 'direct TLS', clientId, c.peer_certificate);
      const headers: [string, string][] = [['Client-Cert', rfc9440(c.peer_certificate)]];
      if (c.untrusted_intermediates.length) headers.push(['Client-Cert-Chain', c.untrusted_intermediates.map(rfc9440).join(', ')]);
      const proxied = await rawHttpsRequest({ url: `${s.handle.mtlsUrl}/token`, ca: s.pki.root.pem, localAddress: TRUSTED, headers, form });
      await expectOutcome(proxied, expected, 'proxy', clientId, c.peer_certificate);
    });
  });
});
