/**
 * Client certificates presented for tls_client_auth / self_signed_tls_client_auth at the token endpoint.
 * The same table runs on both paths: the client's own TLS handshake (certificates.test.ts) and a trusted
 * proxy's RFC 9440 headers (forwarded.test.ts), because the leaf policy must hold on both (H15-4).
 */
import * as x509 from '@peculiar/x509';
import { der, OID, sanExtension } from '../../helpers/asn1.js';
import { createCa, EKU_SERVER_AUTH, issueLeaf, type NameSpec, selfSigned } from '../../helpers/pki.js';
import { type CertKit, ext, fromIssued, type Presented, simpleName } from '../lib/certs.js';
import type { Finding, HostileCase } from '../lib/corpus.js';

export const API = 'https://api.hostile.example';

/** The clients the table authenticates as (registered before the cases run). */
export const CERT_CLIENTS = [
  { clientId: 'hx-dn', mapping: { kind: 'subject_dn', value: 'CN=hx-dn,O=Hostile' } },
  { clientId: 'hx-dns', mapping: { kind: 'san_dns', value: 'hx-dns.example.com' } },
  { clientId: 'hx-email', mapping: { kind: 'san_email', value: 'ops@hostile.example' } },
  { clientId: 'hx-ip', mapping: { kind: 'san_ip', value: '192.0.2.10' } },
  { clientId: 'hx-uri', mapping: { kind: 'san_uri', value: 'spiffe://hostile/hx-uri' } },
  { clientId: 'hx-nc', mapping: { kind: 'san_dns', value: 'svc.allowed.example' } },
] as const;
/** The self_signed_tls_client_auth client; its certificate is CertKit.registeredSelfSigned. */
export const SELF_SIGNED_CLIENT = 'hx-ss';

export interface CertCase extends HostileCase {
  /** client_id sent; null: none. */
  clientId: string | null;
  /** The certificate presented; undefined: none. */
  present(k: CertKit): Promise<Presented | undefined>;
  /** Findings that apply on one path only (the proxy path validates chains with pkijs, not OpenSSL). */
  findingOn?: { direct?: Finding; proxy?: Finding };
}

const DN: NameSpec = [{ O: ['Hostile'] }, { CN: ['hx-dn'] }];
const dnsSan = (value: string) => [{ type: 'dns' as const, value }];
const ANY_EKU = '2.5.29.37.0';
const E = (id: number) => `CERT-${String(id).padStart(2, '0')}`;

export const certificateCases: CertCase[] = [
  // ---- accepts: the table can tell a good certificate from a bad one ----
  {
    id: E(1),
    guards: ['PKI-4', 'X-5'],
    title: 'subject DN leaf (clientAuth, digitalSignature) → token',
    expect: 'accept',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: DN }),
  },
  {
    id: E(2),
    guards: ['MD-4'],
    title: 'dNSName SAN in another letter case → token',
    expect: 'accept',
    clientId: 'hx-dns',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: dnsSan('HX-DNS.Example.COM') }),
  },
  {
    id: E(3),
    guards: ['MD-7'],
    title: 'rfc822Name SAN, domain in another case → token',
    expect: 'accept',
    clientId: 'hx-email',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'email', value: 'ops@Hostile.EXAMPLE' }] }),
  },
  {
    id: E(4),
    guards: ['MD-6'],
    title: 'iPAddress SAN → token',
    expect: 'accept',
    clientId: 'hx-ip',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'ip', value: '192.0.2.10' }] }),
  },
  {
    id: E(5),
    guards: ['MD-5'],
    title: 'URI SAN, exact → token',
    expect: 'accept',
    clientId: 'hx-uri',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'url', value: 'spiffe://hostile/hx-uri' }] }),
  },
  {
    id: E(6),
    guards: ['MD-8'],
    title: 'the expected dNSName among other SANs of several types → token',
    expect: 'accept',
    clientId: 'hx-dns',
    present: (k) =>
      k.leaf({
        subject: [{ CN: ['x'] }],
        san: [
          { type: 'dns', value: 'a.example.com' },
          { type: 'dns', value: 'hx-dns.example.com' },
          { type: 'ip', value: '198.51.100.1' },
        ],
      }),
  },
  {
    id: E(7),
    guards: ['X-3'],
    title: 'the DN with its CN as a BMPString → token (values compared, not string tags)',
    expect: 'accept',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ O: ['Hostile'] }, { CN: [{ bmpString: 'hx-dn' }] }] }),
  },
  {
    id: E(8),
    guards: ['X-7'],
    title: 'the DN in another letter case → token (caseIgnoreMatch)',
    expect: 'accept',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ O: ['HOSTILE'] }, { CN: ['HX-DN'] }] }),
  },
  {
    id: E(9),
    guards: ['SS-3', 'SS-5'],
    title: 'the registered self-signed certificate → token',
    expect: 'accept',
    clientId: SELF_SIGNED_CLIENT,
    present: async (k) => fromIssued(k.registeredSelfSigned),
  },
  {
    id: E(10),
    guards: ['SC-6'],
    title: 'a leaf of the name-constrained CA inside its constraints → token',
    expect: 'accept',
    clientId: 'hx-nc',
    present: async (k) => fromIssued(await issueLeaf(k.constrained, { subject: [{ CN: ['svc'] }], san: dnsSan('svc.allowed.example') }), k.constrained),
  },

  // ---- who the client is ----
  { id: E(11), guards: ['G-2', 'G-5'], title: 'no client certificate', expect: 'refuse', clientId: 'hx-dn', present: async () => undefined },
  {
    id: E(12),
    guards: ['G-3'],
    title: 'a valid certificate and no client_id (the client is never inferred)',
    expect: 'refuse',
    clientId: null,
    present: (k) => k.leaf({ subject: DN }),
  },
  {
    id: E(13),
    guards: ['G-4'],
    title: "client A's certificate for client B",
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: dnsSan('hx-dns.example.com') }),
  },
  { id: E(14), guards: ['G-4'], title: 'an unknown client_id with a valid certificate', expect: 'refuse', clientId: 'hx-nobody', present: (k) => k.leaf({ subject: DN }) },
  {
    id: E(15),
    guards: ['SS-3'],
    title: 'the self-signed client with another certificate of the same key',
    expect: 'refuse',
    clientId: SELF_SIGNED_CLIENT,
    present: async (k) => fromIssued(await selfSigned({ subject: [{ CN: ['hx-ss device'] }], keys: k.registeredSelfSigned.keys })),
  },
  {
    id: E(16),
    guards: ['SS-2', 'G-4'],
    title: 'the self-signed client with a CA-issued certificate',
    expect: 'refuse',
    clientId: SELF_SIGNED_CLIENT,
    present: (k) => k.leaf({ subject: [{ CN: ['hx-ss device'] }] }),
  },

  // ---- chains ----
  {
    id: E(17),
    guards: ['PKI-1', 'SC-5', 'X-13'],
    title: 'the right DN from a CA that is not a trust anchor',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async (k) => fromIssued(await issueLeaf(k.foreign.issuing, { subject: DN }), k.foreign.issuing),
  },
  {
    id: E(18),
    guards: ['PKI-1'],
    title: 'a self-signed certificate with the right DN',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async () => fromIssued(await selfSigned({ subject: DN })),
  },
  {
    id: E(19),
    guards: ['PKI-1'],
    title: 'the leaf without its issuing CA',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async (k) => ({ ...(await k.leaf({ subject: DN })), chain: [] }),
  },
  {
    id: E(20),
    guards: ['X-10'],
    title: 'a chain 10 CAs deep',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async (k) => {
      let issuer = k.pki.intermediate;
      const chain = [issuer];
      for (let i = 0; i < 9; i++) {
        issuer = await createCa({ name: [{ CN: [`Deep CA ${i}`] }], parent: issuer });
        chain.unshift(issuer);
      }
      return fromIssued(await issueLeaf(issuer, { subject: DN }), ...chain);
    },
  },
  {
    id: E(21),
    guards: ['SC-6'],
    title: 'a CA below the issuing CA whose pathLenConstraint is 0',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async (k) => {
      const sub = await createCa({ name: [{ CN: ['Sub CA'] }], parent: k.pki.intermediate });
      return fromIssued(await issueLeaf(sub, { subject: DN }), sub, k.pki.intermediate);
    },
  },
  {
    id: E(22),
    guards: ['SC-6'],
    title: 'a leaf issued by another leaf (issuer not a CA)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async (k) => {
      const parent = await issueLeaf(k.pki.intermediate, { subject: [{ O: ['Hostile'] }, { CN: ['parent-leaf'] }] });
      return fromIssued(await issueLeaf(parent, { subject: DN }), parent, k.pki.intermediate);
    },
  },
  {
    id: E(23),
    guards: ['SC-6', 'H15-4'],
    title: 'a leaf outside the dNSName constraint of its CA',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: async (k) => fromIssued(await issueLeaf(k.constrained, { subject: [{ CN: ['x'] }], san: dnsSan('hx-dns.example.com') }), k.constrained),
  },
  {
    id: E(24),
    guards: ['SC-6'],
    title: 'a leaf whose signature does not verify (signed by another key under the CA name)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: async (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki],
        signWith: k.foreign.root.keys.privateKey,
      }),
  },

  // ---- validity, usage and the leaf policy ----
  {
    id: E(25),
    guards: ['X-12'],
    title: 'an expired leaf',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: DN, notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }),
  },
  {
    id: E(26),
    guards: ['X-12'],
    title: 'a leaf not valid yet',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: DN, notBefore: new Date(Date.now() + 86_400_000), notAfter: new Date(Date.now() + 10 * 86_400_000) }),
  },
  { id: E(27), guards: ['X-12'], title: 'EKU serverAuth only', expect: 'refuse', clientId: 'hx-dn', present: (k) => k.leaf({ subject: DN, eku: [EKU_SERVER_AUTH] }) },
  {
    id: E(28),
    guards: ['H15-4', 'SC-6'],
    findingOn: { proxy: 'H15-4' },
    title: 'EKU anyExtendedKeyUsage only',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: DN, eku: [ANY_EKU] }),
  },
  {
    id: E(29),
    guards: ['H15-4', 'X-12'],
    finding: 'H15-4',
    title: 'no EKU extension (the trust anchor did not opt out)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: DN, eku: null }),
  },
  {
    id: E(30),
    guards: ['H15-4', 'SC-6'],
    finding: 'H15-4',
    title: 'a leaf with basicConstraints CA:TRUE (clientAuth, digitalSignature)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.craft({ subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']), extensions: [k.std.ca, k.std.digitalSignature, k.std.clientAuth, k.std.aki] }),
  },
  {
    id: E(31),
    guards: ['H15-4', 'SC-6'],
    finding: 'H15-4',
    title: 'keyUsage keyCertSign only (no digitalSignature)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [k.std.notCa, ext(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)), k.std.clientAuth, k.std.aki],
      }),
  },
  {
    id: E(32),
    guards: ['H15-4', 'SC-6'],
    finding: 'H15-4',
    title: 'keyUsage keyEncipherment only (no digitalSignature)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [k.std.notCa, ext(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true)), k.std.clientAuth, k.std.aki],
      }),
  },
  {
    id: E(33),
    guards: ['X-11', 'H15-4'],
    finding: 'H15-4',
    title: 'two SAN extensions',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: (k) =>
      k.craft({
        subject: simpleName([OID.CN, 'x']),
        extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki, sanExtension([{ dns: 'hx-dns.example.com' }]), sanExtension([{ dns: 'other.example.com' }])],
      }),
  },
  {
    id: E(34),
    guards: ['X-11', 'H15-4'],
    finding: 'H15-4',
    title: 'two EKU extensions',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) =>
      k.craft({ subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']), extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.clientAuth, k.std.aki] }),
  },
  {
    id: E(35),
    guards: ['X-11', 'H15-4'],
    finding: 'H15-4',
    title: 'a malformed rfc822Name next to the valid one',
    expect: 'refuse',
    clientId: 'hx-email',
    present: (k) =>
      k.craft({
        subject: simpleName([OID.CN, 'x']),
        extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki, sanExtension([{ email: 'ops@hostile.example' }, { email: 'not an address@@' }])],
      }),
  },
  {
    id: E(36),
    guards: ['X-11', 'H15-4'],
    title: 'a SAN extension that is not GeneralNames (garbage bytes)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [
          k.std.notCa,
          k.std.digitalSignature,
          k.std.clientAuth,
          k.std.aki,
          der.seq(der.oid(OID.subjectAltName), der.octets(new Uint8Array([0x30, 0x05, 0x82, 0x09, 0x41]))),
        ],
      }),
  },
  {
    id: E(37),
    guards: ['H15-4', 'SC-6'],
    finding: 'H15-4',
    title: 'a v1 leaf (no extensions at all)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.craft({ version: 1, subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']), extensions: [] }),
  },
  {
    id: E(38),
    guards: ['SC-6'],
    title: 'an unknown critical extension',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: DN, extraExtensions: [new x509.Extension('1.3.6.1.4.1.55555.1', true, new Uint8Array([0x05, 0x00]))] }),
  },

  // ---- names: no near miss matches ----
  {
    id: E(39),
    guards: ['X-1', 'SC-6'],
    title: 'NUL inside the dNSName SAN (hx-dns.example.com\\0.evil.net)',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: (k) =>
      k.craft({
        subject: simpleName([OID.CN, 'x']),
        extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki, sanExtension([{ dns: 'hx-dns.example.com\u0000.evil.net' }])],
      }),
  },
  {
    id: E(40),
    guards: ['X-1'],
    title: 'NUL inside the CN of the DN',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) =>
      k.craft({ subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn\u0000evil']), extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki] }),
  },
  {
    id: E(41),
    guards: ['MD-9', 'X-8'],
    title: 'the dNSName only as the CN, no SAN',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: (k) => k.leaf({ subject: [{ CN: ['hx-dns.example.com'] }] }),
  },
  {
    id: E(42),
    guards: ['MD-9', 'X-8'],
    title: 'the e-mail address only in the subject (emailAddress), no SAN',
    expect: 'refuse',
    clientId: 'hx-email',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }, { E: ['ops@hostile.example'] }] }),
  },
  {
    id: E(43),
    guards: ['X-9', 'MD-4'],
    title: 'a wildcard dNSName *.example.com',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: dnsSan('*.example.com') }),
  },
  {
    id: E(44),
    guards: ['MD-4'],
    title: 'the dNSName with a trailing dot',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: dnsSan('hx-dns.example.com.') }),
  },
  {
    id: E(45),
    guards: ['MD-4'],
    title: 'a dNSName that only ends with the registered one (evilhx-dns.example.com)',
    expect: 'refuse',
    clientId: 'hx-dns',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: dnsSan('evilhx-dns.example.com') }),
  },
  {
    id: E(46),
    guards: ['MD-7'],
    title: 'the rfc822Name with the local part in another case',
    expect: 'refuse',
    clientId: 'hx-email',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'email', value: 'OPS@hostile.example' }] }),
  },
  {
    id: E(47),
    guards: ['MD-6'],
    title: 'the IPv4 address as an IPv4-mapped IPv6 SAN',
    expect: 'refuse',
    clientId: 'hx-ip',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'ip', value: '::ffff:192.0.2.10' }] }),
  },
  {
    id: E(48),
    guards: ['MD-5'],
    title: 'the URI SAN with a trailing slash',
    expect: 'refuse',
    clientId: 'hx-uri',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'url', value: 'spiffe://hostile/hx-uri/' }] }),
  },
  {
    id: E(49),
    guards: ['MD-5'],
    title: 'the URI SAN percent-encoded',
    expect: 'refuse',
    clientId: 'hx-uri',
    present: (k) => k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'url', value: 'spiffe://hostile/hx-%75ri' }] }),
  },
  {
    id: E(50),
    guards: ['X-2'],
    title: 'the DN with an extra RDN (OU)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ O: ['Hostile'] }, { OU: ['Eng'] }, { CN: ['hx-dn'] }] }),
  },
  {
    id: E(51),
    guards: ['X-5'],
    title: 'the DN with its RDNs in the opposite order',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ CN: ['hx-dn'] }, { O: ['Hostile'] }] }),
  },
  {
    id: E(52),
    guards: ['X-2'],
    title: 'the DN with a second CN',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ O: ['Hostile'] }, { CN: ['hx-dn'] }, { CN: ['admin'] }] }),
  },
  {
    id: E(53),
    guards: ['X-2'],
    title: 'the DN as one multi-valued RDN (CN+O)',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ O: ['Hostile'], CN: ['hx-dn'] }] }),
  },
  {
    id: E(54),
    guards: ['X-4', 'PKI-4'],
    title: 'a CN that carries the rest of the DN (CN="hx-dn,O=Hostile")',
    expect: 'refuse',
    clientId: 'hx-dn',
    present: (k) => k.leaf({ subject: [{ CN: ['hx-dn,O=Hostile'] }] }),
  },
];
