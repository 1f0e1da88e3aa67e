/**
 * The diagnosis engine on certificates built now: one test per reason code, checking the code, the
 * message a person reads and the structured fields the CLI and the admin API print.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type DiagnoseInput, type DiagnosisClient, diagnoseCertificate, formatDiagnosis } from '../../src/diagnose/index.js';
import { canonicalizeMappingValue, type MappingKind, parseCertificate, verifyCrl } from '../../src/pki/index.js';
import { createCrl } from '../helpers/crl.js';
import { createCa, createTestPki, EKU_SERVER_AUTH, type Issued, issueLeaf, selfSigned, type TestPki } from '../helpers/pki.js';

const NOW = new Date();
const DAY = 86_400_000;
let pki: TestPki;
let staging: { root: Issued; issuing: Issued };
let billing: Issued;

function anchors() {
  return [
    { name: 'prod-root', pem: pki.root.pem, environment: 'prod', spkiSha256: parseCertificate(pki.root.pem).spkiSha256 },
    { name: 'staging-root', pem: staging.root.pem, environment: 'staging', spkiSha256: parseCertificate(staging.root.pem).spkiSha256 },
  ];
}

let seq = 0;
function mapping(kind: MappingKind, value: string, extra: { pin?: 'prod' | 'staging'; notBefore?: Date; notAfter?: Date } = {}) {
  const anchor = extra.pin ? anchors().find((a) => a.environment === extra.pin)! : undefined;
  return {
    id: `m${++seq}`,
    kind,
    value,
    canonical: canonicalizeMappingValue(kind, value),
    trustAnchorSpki: anchor?.spkiSha256 ?? null,
    trustAnchorName: anchor?.name ?? null,
    trustAnchorEnvironment: anchor?.environment ?? null,
    notBefore: extra.notBefore ?? null,
    notAfter: extra.notAfter ?? null,
  };
}

function client(clientId: string, ...mappings: ReturnType<typeof mapping>[]): DiagnosisClient {
  return { clientId, authMethod: 'tls_client_auth', mappings };
}

function diagnose(leaf: Issued, overrides: Partial<DiagnoseInput> = {}) {
  return diagnoseCertificate({ leaf: leaf.pem, chain: [pki.intermediate.pem], anchors: anchors(), now: NOW, ...overrides });
}

beforeAll(async () => {
  pki = await createTestPki();
  const root = await createCa({ name: [{ O: ['Staging'] }, { CN: ['Staging Root'] }] });
  staging = { root, issuing: await createCa({ name: [{ O: ['Staging'] }, { CN: ['Staging Issuing'] }], parent: root }) };
  billing = await pki.client({ subject: [{ C: ['US'] }, { O: ['Acme'] }, { CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
});

describe('diagnoseCertificate: certificate facts', () => {
  it('reports subject (RFC 4514 and OpenSSL one-line), SANs, issuer, validity, x5t#S256, SHA-256 hex, EKU and a complete chain', () => {
    const d = diagnose(billing, { clients: [client('billing', mapping('san_dns', 'billing.example.com'))] });
    expect(d.would_authenticate).toBe(true);
    expect(d.code).toBeNull();
    expect(d.certificate.subject).toEqual({ rfc4514: 'CN=billing,O=Acme,C=US', oneline: '/C=US/O=Acme/CN=billing' });
    expect(d.certificate.issuer.rfc4514).toBe('CN=Test Issuing CA,O=Test PKI');
    expect(d.certificate.san.dns).toEqual(['billing.example.com']);
    expect(d.certificate['x5t#S256']).toBe(parseCertificate(billing.pem).x5t);
    expect(d.certificate.sha256_hex).toMatch(/^[0-9a-f]{64}$/);
    expect(d.certificate.extended_key_usage).toEqual(['clientAuth']);
    expect(d.certificate.validity).toMatchObject({ status: 'valid', days_remaining: expect.any(Number) });
    expect(d.certificate.validity.message).toMatch(/expires in \d+ days/);
    expect(d.chain).toMatchObject({ status: 'complete', anchor: { name: 'prod-root', environment: 'prod' }, sent_certificates: 2 });
    expect(d.chain.path.map((p) => p.source)).toEqual(['leaf', 'chain', 'anchor']);
    expect(d.authenticates_as).toEqual([expect.objectContaining({ client_id: 'billing', kind: 'san_dns', code: null })]);
    expect(d.revocation).toMatchObject({ mode: 'off', status: 'not_checked' });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('lists every client it would authenticate as, without a client id', () => {
    const d = diagnose(billing, {
      clients: [
        client('billing', mapping('san_dns', 'billing.example.com')),
        client('billing-dn', mapping('subject_dn', 'CN=billing,O=Acme,C=US')),
        client('other', mapping('san_dns', 'other.example.com')),
      ],
    });
    expect(d.authenticates_as.map((m) => m.client_id)).toEqual(['billing', 'billing-dn']);
    expect(formatDiagnosis(d)).toContain('authenticates as billing, billing-dn');
  });

  it('NO_MATCHING_CLIENT when no registered client maps the certificate', () => {
    const d = diagnose(billing, { clients: [client('other', mapping('san_dns', 'other.example.com'))] });
    expect(d).toMatchObject({ would_authenticate: false, code: 'NO_MATCHING_CLIENT' });
  });
});

describe('diagnoseCertificate: near misses without a client id', () => {
  it('names the nearest registered clients, nearest first, at most 3, each field by field: the same value under another anchor, the DN reversed, the CN as a SAN, then a value a few edits away', () => {
    const nearby = [{ ...mapping('san_dns', 'bililng.example.com'), clientId: 'typo' }];
    const clients = [
      client('other', mapping('san_dns', 'other.example.com')),
      client('staged', mapping('san_dns', 'billing.example.com', { pin: 'staging' })),
      client('reversed', mapping('subject_dn', 'C=US,O=Acme,CN=billing')),
      client('cn-san', mapping('san_dns', 'billing')),
    ];
    const d = diagnose(billing, { clients, nearby });
    expect(d).toMatchObject({ would_authenticate: false, code: 'NO_MATCHING_CLIENT' });
    expect(d.near_misses.map((n) => [n.client_id, n.similarity, n.mapping.code])).toEqual([
      ['staged', 'same_value', 'WRONG_TRUST_ANCHOR'],
      ['cn-san', 'cn_as_san', 'CN_MATCHES_BUT_SAN_EXPECTED'],
      ['reversed', 'reversed_dn', 'SUBJECT_DN_ORDER_REVERSED'],
    ]);
    expect(d.near_misses[0]).toMatchObject({
      differs: ['trust_anchor'],
      mapping: {
        fields: {
          identity: { status: 'match' },
          trust_anchor: { status: 'mismatch', pinned: { name: 'staging-root', environment: 'staging' }, chain_anchor: { name: 'prod-root', environment: 'prod' } },
        },
      },
    });
    expect(d.message).toContain('Nearest registered: staged (WRONG_TRUST_ANCHOR: pinned to staging-root (staging), the chain ends at prod-root (prod)); cn-san');
    const text = formatDiagnosis(d);
    expect(text).toContain('nearest registered clients:');
    expect(text).toMatch(
      /staged: WRONG_TRUST_ANCHOR \(the same value\)\n.*registered.*presented\n.*san_dns +billing\.example\.com +billing\.example\.com +✓\n.*trust anchor +staging-root\/staging +prod-root\/prod +✗/,
    );

    // with fewer of the known mistakes, the value a few edits away is named, with what differs
    const typo = diagnose(billing, { clients: [client('other', mapping('san_dns', 'other.example.com'))], nearby });
    expect(typo.near_misses).toEqual([expect.objectContaining({ client_id: 'typo', similarity: 'similar_value', distance: 2, differs: ['identity'] })]);
    expect(typo.near_misses[0]!.mapping.fields.identity).toMatchObject({ registered: 'bililng.example.com', certificate: ['billing.example.com'] });
    expect(typo.message).toContain('typo (SAN_MISMATCH: san_dns registered bililng.example.com, presented billing.example.com)');
    expect(formatDiagnosis(typo)).toMatch(/typo: SAN_MISMATCH \(a similar value, 2 edits away\)\n.*\n.*san_dns +bililng\.example\.com +billing\.example\.com +✗/);
  });

  it('names none when the values are not close, when the certificate itself is refused, or with a client id', () => {
    const far = diagnose(billing, { clients: [client('other', mapping('san_dns', 'other.example.com'))] });
    expect(far).toMatchObject({ code: 'NO_MATCHING_CLIENT', near_misses: [] });
    expect(far.message).not.toContain('Nearest');
    const staged = [client('staged', mapping('san_dns', 'billing.example.com', { pin: 'staging' }))];
    expect(diagnose(billing, { chain: [], clients: staged })).toMatchObject({ code: 'INTERMEDIATE_MISSING', near_misses: [] });
    expect(diagnose(billing, { clientId: 'staged', clients: staged })).toMatchObject({ code: 'WRONG_TRUST_ANCHOR', near_misses: [] });
  });
});

describe('diagnoseCertificate: mapping reason codes with --client-id', () => {
  it('SUBJECT_DN_ORDER_REVERSED: the DN registered in OpenSSL order', () => {
    const d = diagnose(billing, { clientId: 'reports', clients: [client('reports', mapping('subject_dn', 'C=US,O=Acme,CN=billing'))] });
    expect(d).toMatchObject({ would_authenticate: false, code: 'SUBJECT_DN_ORDER_REVERSED' });
    expect(d.hint).toContain('CN=billing,O=Acme,C=US');
    expect(d.client?.mappings[0]?.fields.identity).toMatchObject({ status: 'mismatch', registered: 'C=US,O=Acme,CN=billing', certificate: ['CN=billing,O=Acme,C=US'] });
  });

  it("SUBJECT_DN_MISMATCH: the mapping names last year's CN", () => {
    const d = diagnose(billing, { clientId: 'billing', clients: [client('billing', mapping('subject_dn', 'CN=billing-2025,O=Acme,C=US'))] });
    expect(d.code).toBe('SUBJECT_DN_MISMATCH');
    expect(d.message).toContain('CN=billing,O=Acme,C=US');
    expect(d.client?.mappings[0]?.fields.identity.closest).toMatchObject({ certificate: 'CN=billing,O=Acme,C=US' });
  });

  it('CN_MATCHES_BUT_SAN_EXPECTED: a CN-only certificate for a SAN mapping', async () => {
    const cnOnly = await pki.client({ subject: [{ CN: ['billing.example.com'] }] });
    const d = diagnose(cnOnly, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com'))] });
    expect(d.code).toBe('CN_MATCHES_BUT_SAN_EXPECTED');
    expect(d.message).toContain('CN is billing.example.com');
  });

  it('SAN_MISSING: no SAN of the expected type', async () => {
    const noSan = await pki.client({ subject: [{ CN: ['svc'] }], san: [{ type: 'email', value: 'ops@example.com' }] });
    const d = diagnose(noSan, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com'))] });
    expect(d.code).toBe('SAN_MISSING');
  });

  it('SAN_MISMATCH: shows the closest registered value and the certificate value', async () => {
    const typo = await pki.client({
      subject: [{ CN: ['billing'] }],
      san: [
        { type: 'dns', value: 'biling.example.com' },
        { type: 'dns', value: 'zzz.example.net' },
      ],
    });
    const d = diagnose(typo, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com'), mapping('san_dns', 'accounts.example.org'))] });
    expect(d.code).toBe('SAN_MISMATCH');
    expect(d.message).toContain('Closest: registered billing.example.com, certificate biling.example.com');
    expect(d.client?.mappings[0]?.fields.identity.closest).toEqual({ registered: 'billing.example.com', certificate: 'biling.example.com', distance: 1 });
  });

  it('WRONG_TRUST_ANCHOR: a staging certificate against a mapping pinned to prod, in environment words', async () => {
    const stagingCert = await issueLeaf(staging.issuing, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const d = diagnose(stagingCert, {
      chain: [staging.issuing.pem],
      clientId: 'billing',
      clients: [client('billing', mapping('san_dns', 'billing.example.com', { pin: 'prod' }))],
    });
    expect(d.chain).toMatchObject({ status: 'complete', anchor: { name: 'staging-root', environment: 'staging' } });
    expect(d.code).toBe('WRONG_TRUST_ANCHOR');
    expect(d.message).toBe(
      'The certificate chain ends at the trust anchor staging-root (environment staging); this mapping is pinned to prod-root (environment prod). A staging certificate never authenticates a mapping pinned to prod.',
    );
    expect(d.client?.mappings[0]?.fields.trust_anchor).toMatchObject({
      status: 'mismatch',
      pinned: { name: 'prod-root', environment: 'prod' },
      chain_anchor: { name: 'staging-root' },
    });
    expect(d.authenticates_as).toEqual([]);
  });

  it('MAPPING_NOT_YET_VALID and MAPPING_EXPIRED: the validity window, field by field', () => {
    const future = diagnose(billing, {
      clientId: 'billing',
      clients: [client('billing', mapping('san_dns', 'billing.example.com', { notBefore: new Date(NOW.getTime() + DAY) }))],
    });
    expect(future.code).toBe('MAPPING_NOT_YET_VALID');
    expect(future.client?.mappings[0]?.fields.identity.status).toBe('match');
    const past = diagnose(billing, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com', { notAfter: new Date(NOW.getTime() - DAY) }))] });
    expect(past.code).toBe('MAPPING_EXPIRED');
    expect(past.mapped_by).toEqual([expect.objectContaining({ client_id: 'billing', code: 'MAPPING_EXPIRED' })]);
  });

  it('CLIENT_UNKNOWN for a client id that is not registered', () => {
    expect(diagnose(billing, { clientId: 'nobody', clients: [] }).code).toBe('CLIENT_UNKNOWN');
  });
});

describe('diagnoseCertificate: certificate and chain reason codes', () => {
  const billingClient = () => [client('billing', mapping('san_dns', 'billing.example.com'))];

  it('INTERMEDIATE_MISSING names the missing issuer DN and its key id', () => {
    const d = diagnose(billing, { chain: [], clientId: 'billing', clients: billingClient() });
    expect(d.code).toBe('INTERMEDIATE_MISSING');
    expect(d.chain.missing_issuer).toEqual({ subject: 'CN=Test Issuing CA,O=Test PKI', key_id: parseCertificate(pki.intermediate.pem).subjectKeyId });
    expect(d.hint).toContain('CN=Test Issuing CA,O=Test PKI');
    // still recognised as billing's certificate
    expect(d.mapped_by).toEqual([expect.objectContaining({ client_id: 'billing', code: 'INTERMEDIATE_MISSING' })]);
  });

  it('one cause gets one reason code: a missing intermediate leaves a pinned mapping\'s anchor "not checked", naming the chain finding, never TRUST_ANCHOR_UNKNOWN', () => {
    const d = diagnose(billing, { chain: [], clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com', { pin: 'prod' }))] });
    expect(d.code).toBe('INTERMEDIATE_MISSING');
    const m = d.client!.mappings[0]!;
    expect(m).toMatchObject({ matches: false, code: null });
    expect(m.message).toContain('INTERMEDIATE_MISSING');
    expect(m.fields.identity.status).toBe('match');
    expect(m.fields.trust_anchor).toMatchObject({
      status: 'not_checked',
      code: null,
      blocked_by: 'INTERMEDIATE_MISSING',
      pinned: { name: 'prod-root', environment: 'prod' },
      chain_anchor: null,
    });
    expect(d.mapped_by).toEqual([expect.objectContaining({ client_id: 'billing', code: 'INTERMEDIATE_MISSING' })]);
    // the one code, nowhere a second: not in the JSON, not in what doctor prints
    expect(JSON.stringify(d)).not.toContain('TRUST_ANCHOR_UNKNOWN');
    const text = formatDiagnosis(d);
    expect(text).not.toContain('TRUST_ANCHOR_UNKNOWN');
    expect(text).toMatch(/unchecked {2}san_dns=billing\.example\.com \[trust prod-root\/prod\]/);
    // the same for an untrusted root: the chain finding is the reason, the pin is not checked
    const unpinnedSide = diagnose(billing, { chain: [], clients: [client('billing', mapping('san_dns', 'billing.example.com', { pin: 'prod' }))] });
    expect(JSON.stringify(unpinnedSide)).not.toContain('TRUST_ANCHOR_UNKNOWN');
    // a chain that reaches its anchor checks the pin as before
    expect(diagnose(billing, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com', { pin: 'staging' }))] }).code).toBe('WRONG_TRUST_ANCHOR');
  });

  it('UNTRUSTED_ROOT: a chain from a CA that is not a trust anchor', async () => {
    const otherRoot = await createCa({ name: [{ CN: ['Unknown Root'] }] });
    const otherIssuing = await createCa({ name: [{ CN: ['Unknown Issuing'] }], parent: otherRoot });
    const cert = await issueLeaf(otherIssuing, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const d = diagnose(cert, { chain: [otherIssuing.pem], clientId: 'billing', clients: billingClient() });
    expect(d.code).toBe('UNTRUSTED_ROOT');
    expect(d.chain.missing_issuer?.subject).toBe('CN=Unknown Root');
  });

  it('CERT_EXPIRED and CERT_NOT_YET_VALID', async () => {
    const expired = await pki.client({
      subject: [{ CN: ['b'] }],
      san: [{ type: 'dns', value: 'billing.example.com' }],
      notBefore: new Date(NOW.getTime() - 10 * DAY),
      notAfter: new Date(NOW.getTime() - DAY),
    });
    const e = diagnose(expired, { clientId: 'billing', clients: billingClient() });
    expect(e.code).toBe('CERT_EXPIRED');
    expect(e.certificate.validity).toMatchObject({ status: 'expired' });
    const future = await pki.client({
      subject: [{ CN: ['b'] }],
      san: [{ type: 'dns', value: 'billing.example.com' }],
      notBefore: new Date(NOW.getTime() + DAY),
      notAfter: new Date(NOW.getTime() + 10 * DAY),
    });
    expect(diagnose(future, { clientId: 'billing', clients: billingClient() }).code).toBe('CERT_NOT_YET_VALID');
  });

  it('EKU_NOT_CLIENT_AUTH', async () => {
    const serverOnly = await pki.client({ subject: [{ CN: ['b'] }], san: [{ type: 'dns', value: 'billing.example.com' }], eku: [EKU_SERVER_AUTH] });
    const d = diagnose(serverOnly, { clientId: 'billing', clients: billingClient() });
    expect(d.code).toBe('EKU_NOT_CLIENT_AUTH');
    expect(d.certificate).toMatchObject({ extended_key_usage: ['serverAuth'], client_auth_allowed: false });
  });

  it('CHAIN_TOO_LONG beyond 5 certificates sent', async () => {
    let issuer = pki.intermediate;
    const chain = [pki.intermediate.pem];
    for (let i = 0; i < 5; i++) {
      issuer = await createCa({ name: [{ CN: [`Deep ${i}`] }], parent: issuer });
      chain.unshift(issuer.pem);
    }
    const leaf = await issueLeaf(issuer, { subject: [{ CN: ['deep'] }] });
    const d = diagnose(leaf, { chain });
    expect(d.chain.status).toBe('complete');
    expect(d.code).toBe('CHAIN_TOO_LONG');
  });

  it('SELF_SIGNED_NOT_REGISTERED: a self-signed certificate that no client has, or not the one registered', async () => {
    const device = await selfSigned({ subject: [{ CN: ['device-1'] }] });
    const other = await selfSigned({ subject: [{ CN: ['device-1'] }] });
    const registered: DiagnosisClient = {
      clientId: 'device-1',
      authMethod: 'self_signed_tls_client_auth',
      mappings: [],
      jwks: { keys: [{ kty: 'EC', x5c: [device.der.toString('base64')] }] },
    };
    const bare = diagnose(other, { chain: [], clients: [registered] });
    expect(bare.code).toBe('SELF_SIGNED_NOT_REGISTERED');
    const named = diagnose(other, { chain: [], clientId: 'device-1', clients: [registered] });
    expect(named.code).toBe('SELF_SIGNED_NOT_REGISTERED');
    expect(named.client?.registered_certificates).toEqual([parseCertificate(device.pem).x5t]);
    const ok = diagnose(device, { chain: [], clientId: 'device-1', clients: [registered] });
    expect(ok).toMatchObject({ would_authenticate: true, code: null });
    expect(diagnose(device, { chain: [], clients: [registered] }).authenticates_as).toEqual([
      expect.objectContaining({ client_id: 'device-1', auth_method: 'self_signed_tls_client_auth' }),
    ]);
  });

  it('BT-2 CLIENT_NOT_CERTIFICATE_AUTH: for a private_key_jwt client the certificate is not checked against the client; the diagnosis says the assertion decides and which thumbprint the tokens get', async () => {
    const instance = await selfSigned({ subject: [{ CN: ['agent-7'] }] });
    const agent: DiagnosisClient = { clientId: 'agent', authMethod: 'private_key_jwt', mappings: [], jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1' }] } };
    const d = diagnose(instance, { chain: [], clientId: 'agent', clients: [agent] });
    expect(d.client).toMatchObject({ auth_method: 'private_key_jwt', found: true, would_authenticate: false, code: 'CLIENT_NOT_CERTIFICATE_AUTH' });
    expect(d.client?.message).toContain('private_key_jwt');
    expect(d.client?.message).toContain(parseCertificate(instance.pem).x5t);
    expect(d.authenticates_as).toEqual([]);
  });
});

describe('diagnoseCertificate: revocation (PKI-5)', () => {
  it("REVOKED: the leaf is listed in its issuer's CRL", async () => {
    const revoked = await pki.client({ subject: [{ CN: ['r'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const crls = [
      await verifyCrl((await createCrl(pki.intermediate, { revoked: [revoked] })).pem, pki.intermediate.pem),
      await verifyCrl((await createCrl(pki.root)).pem, pki.root.pem),
    ];
    const d = diagnose(revoked, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com'))], revocation: { crls, stalePolicy: 'fail-closed' } });
    expect(d.code).toBe('REVOKED');
    expect(d.revocation).toMatchObject({ mode: 'enforce', status: 'revoked' });
    expect(d.revocation.certificates[0]).toMatchObject({ status: 'revoked', crl_issuer: 'CN=Test Issuing CA,O=Test PKI' });
    const good = diagnose(billing, { clients: [client('billing', mapping('san_dns', 'billing.example.com'))], revocation: { crls, stalePolicy: 'fail-closed' } });
    expect(good).toMatchObject({ would_authenticate: true, revocation: { status: 'good' } });
  });

  it('CRL_UNAVAILABLE: with CRL checking on, a CA in the chain without a CRL', async () => {
    const crls = [await verifyCrl((await createCrl(pki.intermediate)).pem, pki.intermediate.pem)];
    const d = diagnose(billing, { clientId: 'billing', clients: [client('billing', mapping('san_dns', 'billing.example.com'))], revocation: { crls, stalePolicy: 'fail-closed' } });
    expect(d.code).toBe('CRL_UNAVAILABLE');
    expect(d.message).toContain('CN=Test Root CA,O=Test PKI');
  });

  it('CRL_STALE: refuses with fail-closed; only a warning with fail-open', async () => {
    const stale = await verifyCrl(
      (await createCrl(pki.intermediate, { thisUpdate: new Date(NOW.getTime() - 2 * DAY), nextUpdate: new Date(NOW.getTime() - DAY) })).pem,
      pki.intermediate.pem,
    );
    const root = await verifyCrl((await createCrl(pki.root)).pem, pki.root.pem);
    const clients = [client('billing', mapping('san_dns', 'billing.example.com'))];
    const closed = diagnose(billing, { clientId: 'billing', clients, revocation: { crls: [stale, root], stalePolicy: 'fail-closed' } });
    expect(closed.code).toBe('CRL_STALE');
    const open = diagnose(billing, { clientId: 'billing', clients, revocation: { crls: [stale, root], stalePolicy: 'fail-open' } });
    expect(open).toMatchObject({ would_authenticate: true, revocation: { mode: 'known-revoked-only' } });
    expect(open.findings).toEqual([expect.objectContaining({ code: 'CRL_STALE', severity: 'warning' })]);
  });
});
