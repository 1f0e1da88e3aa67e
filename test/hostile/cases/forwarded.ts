/**
 * Forwarded client-certificate headers (checklist §2.0, RFC 9440 §4): at the authorization server behind
 * a trusted proxy (RFC 9440 Client-Cert, certbound validating the chain), and at certbound/verifier in a
 * resource server for every proxy format, from the trusted proxy (127.0.0.2) and from any other peer.
 */
import { createHash } from 'node:crypto';
import { toPem } from '../../helpers/asn1.js';
import type { Presented } from '../lib/certs.js';
import type { HostileCase } from '../lib/corpus.js';

export const TRUSTED_PROXY = '127.0.0.2';
export const UNTRUSTED_PEER = '127.0.0.1';

/** RFC 9440 Byte Sequence of a DER certificate. */
export const sf = (der: Buffer): string => `:${der.toString('base64')}:`;

/** The certificates a forwarded case uses. */
export interface ForwardedMaterial {
  /** Authenticates as hx-dn (leaf from the issuing CA). */
  good: Presented;
  /** Another valid leaf (hx-dns). */
  other: Presented;
}

export interface AsForwardedCase extends HostileCase {
  /** TCP source address of the request. */
  from: string;
  /** Header pairs in order (names may repeat). */
  headers(m: ForwardedMaterial): [string, string][];
  /** Which listener: the token endpoint of the mTLS listener (default) or of the main one. */
  listener?: 'mtls' | 'main';
  /** The proxy's own TLS client certificate (never a source of the client's certificate). */
  proxyTlsCert?: (m: ForwardedMaterial) => Presented;
  clientId: string;
}

const chainOf = (p: Presented): [string, string][] => (p.chain.length ? [['Client-Cert-Chain', p.chain.map(sf).join(', ')]] : []);
const good = (m: ForwardedMaterial): [string, string][] => [['Client-Cert', sf(m.good.der)], ...chainOf(m.good)];
const F = (id: number) => `FWD-AS-${String(id).padStart(2, '0')}`;

export const asForwardedCases: AsForwardedCase[] = [
  { id: F(1), guards: ['PKI-3', 'SC-4'], title: 'the trusted proxy forwards a valid certificate → token', expect: 'accept', from: TRUSTED_PROXY, clientId: 'hx-dn', headers: good },
  {
    id: F(2),
    guards: ['PKI-3'],
    title: 'header names in another letter case → token (HTTP field names are case-insensitive)',
    expect: 'accept',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => good(m).map(([k, v]) => [k.toUpperCase(), v]),
  },
  { id: F(3), guards: ['T-1', 'SC-4'], title: 'the same headers from a peer that is not the proxy', expect: 'refuse', from: UNTRUSTED_PEER, clientId: 'hx-dn', headers: good },
  {
    id: F(4),
    guards: ['T-1', 'SC-4'],
    title: 'only Client-Cert-Chain from a peer that is not the proxy',
    expect: 'refuse',
    from: UNTRUSTED_PEER,
    clientId: 'hx-dn',
    headers: (m) => chainOf(m.good),
  },
  {
    id: F(5),
    guards: ['T-1', 'SC-4'],
    title: 'X-Forwarded-For naming the proxy does not make a peer the proxy',
    expect: 'refuse',
    from: UNTRUSTED_PEER,
    clientId: 'hx-dn',
    headers: (m) => [['X-Forwarded-For', TRUSTED_PROXY], ['Forwarded', `for=${TRUSTED_PROXY}`], ...good(m)],
  },
  {
    id: F(6),
    guards: ['T-1', 'SC-4'],
    title: 'the underscore variant Client_Cert from a peer that is not the proxy',
    expect: 'refuse',
    from: UNTRUSTED_PEER,
    clientId: 'hx-dn',
    headers: (m) => [['Client_Cert', sf(m.good.der)]],
  },
  {
    id: F(7),
    guards: ['T-1'],
    title: 'the underscore variant Client_Cert from the proxy is not the certificate',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [
      ['Client_Cert', sf(m.good.der)],
      ['Client_Cert_Chain', m.good.chain.map(sf).join(', ')],
    ],
  },
  {
    id: F(8),
    guards: ['PKI-3', 'BT-7'],
    title: 'the proxy forwards nothing: its own TLS certificate never counts',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: () => [],
    proxyTlsCert: (m) => m.good,
  },
  {
    id: F(9),
    guards: ['SC-4'],
    title: 'Client-Cert twice',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', sf(m.good.der)], ['Client-Cert', sf(m.good.der)], ...chainOf(m.good)],
  },
  {
    id: F(10),
    guards: ['SC-4'],
    title: 'Client-Cert as a list of two certificates',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', `${sf(m.good.der)}, ${sf(m.other.der)}`], ...chainOf(m.good)],
  },
  {
    id: F(11),
    guards: ['X-14'],
    title: 'Client-Cert in the base64url alphabet',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', `:${m.good.der.toString('base64url')}:`], ...chainOf(m.good)],
  },
  {
    id: F(12),
    guards: ['X-14'],
    title: 'Client-Cert carrying PEM armor',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', `:${Buffer.from(m.good.pem).toString('base64')}:`], ...chainOf(m.good)],
  },
  {
    id: F(13),
    guards: ['X-14'],
    title: 'Client-Cert with spaces inside the colons',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', `:${m.good.der.toString('base64').replace(/(.{64})/g, '$1 ')}:`], ...chainOf(m.good)],
  },
  { id: F(14), guards: ['X-14'], title: 'an empty Byte Sequence (::)', expect: 'refuse', from: TRUSTED_PROXY, clientId: 'hx-dn', headers: () => [['Client-Cert', '::']] },
  {
    id: F(15),
    guards: ['X-14'],
    title: 'bare base64 without the colons',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', m.good.der.toString('base64')], ...chainOf(m.good)],
  },
  {
    id: F(16),
    guards: ['X-14'],
    title: 'the DER followed by trailing bytes',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', sf(Buffer.concat([m.good.der, Buffer.from([0x30, 0x00])]))], ...chainOf(m.good)],
  },
  {
    id: F(17),
    guards: ['X-14'],
    title: 'the DER cut short',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', sf(m.good.der.subarray(0, m.good.der.length - 20))], ...chainOf(m.good)],
  },
  {
    id: F(18),
    guards: ['X-14'],
    title: 'bytes that are not a certificate',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: () => [['Client-Cert', sf(createHash('sha512').update('not a certificate').digest())]],
  },
  {
    id: F(19),
    guards: ['X-10'],
    title: 'a 200 KB Client-Cert',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: () => [['Client-Cert', `:${Buffer.alloc(150_000, 7).toString('base64')}:`]],
  },
  {
    id: F(20),
    guards: ['X-10'],
    title: 'Client-Cert-Chain of 50 certificates',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [
      ['Client-Cert', sf(m.good.der)],
      ['Client-Cert-Chain', Array.from({ length: 50 }, () => sf(m.good.chain[0]!)).join(', ')],
    ],
  },
  { id: F(21), guards: ['SC-4'], title: 'Client-Cert-Chain without Client-Cert', expect: 'refuse', from: TRUSTED_PROXY, clientId: 'hx-dn', headers: (m) => chainOf(m.good) },
  {
    id: F(22),
    guards: ['G-2', 'AL-3'],
    title: 'valid headers from the proxy at the main (non-mTLS) listener',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    listener: 'main',
    headers: good,
  },
  {
    id: F(23),
    guards: ['G-4'],
    title: "another client's certificate, forwarded by the proxy",
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [['Client-Cert', sf(m.other.der)], ...chainOf(m.other)],
  },
  {
    id: F(24),
    guards: ['T-1', 'SC-4'],
    title: 'a verify header (X-SSL-Client-Verify: SUCCESS) from a peer that is not the proxy',
    expect: 'refuse',
    from: UNTRUSTED_PEER,
    clientId: 'hx-dn',
    headers: () => [['X-SSL-Client-Verify', 'SUCCESS']],
  },
  {
    id: F(25),
    guards: ['X-14'],
    title: 'the certificate PEM inside a Byte Sequence chain element',
    expect: 'refuse',
    from: TRUSTED_PROXY,
    clientId: 'hx-dn',
    headers: (m) => [
      ['Client-Cert', sf(m.good.der)],
      ['Client-Cert-Chain', `:${Buffer.from(toPem(m.good.chain[0]!)).toString('base64')}:`],
    ],
  },
];

// ---- certbound/verifier in a resource server, every proxy format ----

export const FORMATS = ['rfc9440', 'nginx', 'xfcc', 'alb', 'alb-passthrough', 'traefik', 'base64'] as const;
export type Format = (typeof FORMATS)[number];

/** The header a proxy of each format sets for a certificate (leaf plus chain where the format carries one). */
export function encodeFor(format: Format, p: Presented): [string, string][] {
  const pem = p.pem;
  const albEscape = (s: string) => s.replace(/ /g, '%20').replace(/\n/g, '%0A');
  switch (format) {
    case 'rfc9440':
      return [['Client-Cert', sf(p.der)]];
    case 'nginx':
      return [['X-SSL-Client-Cert', encodeURIComponent(pem)]];
    case 'xfcc':
      return [['X-Forwarded-Client-Cert', `Hash=${createHash('sha256').update(p.der).digest('hex')};Cert="${encodeURIComponent(pem)}";Subject="CN=x"`]];
    case 'alb':
      return [['X-Amzn-Mtls-Clientcert-Leaf', albEscape(pem)]];
    case 'alb-passthrough':
      return [['X-Amzn-Mtls-Clientcert', albEscape(pem + p.chain.map((d) => toPem(d)).join(''))]];
    case 'traefik':
      return [['X-Forwarded-Tls-Client-Cert', p.der.toString('base64')]];
    case 'base64':
      return [['X-SSL-Client-Cert', p.der.toString('base64')]];
  }
}

/** A value of the format's header that no proxy of that format produces. */
const MALFORMED: Record<Format, (p: Presented) => string> = {
  rfc9440: (p) => `:${p.der.toString('base64url')}:`,
  nginx: (p) => encodeURIComponent(p.pem).replace('BEGIN', 'BEGlN'),
  xfcc: (p) => `Hash=${'00'.repeat(32)};Cert="${encodeURIComponent(p.pem)}"`,
  alb: (p) => new URLSearchParams({ c: p.pem }).toString().slice(2),
  'alb-passthrough': () => 'not%20a%20certificate',
  traefik: (p) => `${p.der.toString('base64')}!!`,
  base64: (p) => p.der.toString('base64url'),
};

export interface RsForwardedCase extends HostileCase {
  format: Format;
  from: string;
  /** The token presented: bound to `client` (a real one from certbound). */
  headers(m: ForwardedMaterial): [string, string][];
}

const rsCases: RsForwardedCase[] = [];
FORMATS.forEach((format, i) => {
  const base = (n: number) => `FWD-RS-${String(i * 10 + n).padStart(2, '0')}`;
  const [name] = encodeFor(format, { pem: '', der: Buffer.alloc(0), chain: [], keyPem: '' })[0]!;
  rsCases.push(
    {
      id: base(1),
      guards: ['PKI-3', 'BT-5', 'SC-4'],
      title: `${format}: the bound certificate from the trusted proxy → verified`,
      expect: 'accept',
      format,
      from: TRUSTED_PROXY,
      headers: (m) => encodeFor(format, m.good),
    },
    {
      id: base(2),
      guards: ['BT-6', 'SC-4'],
      title: `${format}: another certificate from the trusted proxy`,
      expect: 'refuse',
      format,
      from: TRUSTED_PROXY,
      headers: (m) => encodeFor(format, m.other),
    },
    { id: base(3), guards: ['BT-6'], title: `${format}: the trusted proxy forwards no certificate`, expect: 'refuse', format, from: TRUSTED_PROXY, headers: () => [] },
    {
      id: base(4),
      guards: ['T-1', 'SC-4'],
      title: `${format}: the bound certificate from a peer that is not the proxy`,
      expect: 'refuse',
      format,
      from: UNTRUSTED_PEER,
      headers: (m) => encodeFor(format, m.good),
    },
    {
      id: base(5),
      guards: ['X-14', 'SC-4'],
      title: `${format}: a malformed ${name} from the trusted proxy`,
      expect: 'refuse',
      format,
      from: TRUSTED_PROXY,
      headers: (m) => [[name, MALFORMED[format](m.good)]],
    },
    {
      id: base(6),
      guards: ['SC-4'],
      title: `${format}: ${name} twice (the bound certificate and another)`,
      expect: 'refuse',
      format,
      from: TRUSTED_PROXY,
      headers: (m) => [...encodeFor(format, m.other), ...encodeFor(format, m.good)],
    },
    {
      id: base(7),
      guards: ['T-1'],
      title: `${format}: the underscore variant of ${name} from the trusted proxy is not the certificate`,
      expect: 'refuse',
      format,
      from: TRUSTED_PROXY,
      headers: (m) => encodeFor(format, m.good).map(([k, v]) => [k.replace(/-/g, '_'), v]),
    },
  );
});
rsCases.push(
  {
    id: 'FWD-RS-71',
    guards: ['SC-4'],
    title: 'xfcc: two elements (two hops)',
    expect: 'refuse',
    format: 'xfcc',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-Forwarded-Client-Cert', `${encodeFor('xfcc', m.other)[0]![1]},${encodeFor('xfcc', m.good)[0]![1]}`]],
  },
  {
    id: 'FWD-RS-72',
    guards: ['X-14'],
    title: 'xfcc: Cert twice in one element',
    expect: 'refuse',
    format: 'xfcc',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-Forwarded-Client-Cert', `Cert="${encodeURIComponent(m.other.pem)}";Cert="${encodeURIComponent(m.good.pem)}"`]],
  },
  {
    id: 'FWD-RS-73',
    guards: ['X-14'],
    title: 'xfcc: an unbalanced quote',
    expect: 'refuse',
    format: 'xfcc',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-Forwarded-Client-Cert', `Cert="${encodeURIComponent(m.good.pem)};Subject="CN=x"`]],
  },
  {
    id: 'FWD-RS-74',
    guards: ['X-14'],
    title: 'xfcc: a Hash of another certificate',
    expect: 'refuse',
    format: 'xfcc',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-Forwarded-Client-Cert', `Hash=${createHash('sha256').update(m.other.der).digest('hex')};Cert="${encodeURIComponent(m.good.pem)}"`]],
  },
  {
    id: 'FWD-RS-75',
    guards: ['SC-4'],
    title: 'alb: the passthrough header next to the verify-mode header',
    expect: 'refuse',
    format: 'alb',
    from: TRUSTED_PROXY,
    headers: (m) => [...encodeFor('alb', m.good), ...encodeFor('alb-passthrough', m.other)],
  },
  {
    id: 'FWD-RS-76',
    guards: ['X-14'],
    title: 'alb: form-decoding damage (+ turned into spaces)',
    expect: 'refuse',
    format: 'alb',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-Amzn-Mtls-Clientcert-Leaf', encodeFor('alb', m.good)[0]![1].replace(/\+/g, '%20')]],
  },
  {
    id: 'FWD-RS-77',
    guards: ['X-14'],
    title: 'nginx: two PEM blocks in the header',
    expect: 'refuse',
    format: 'nginx',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-SSL-Client-Cert', encodeURIComponent(m.good.pem + m.other.pem)]],
  },
  {
    id: 'FWD-RS-78',
    guards: ['X-14'],
    title: 'traefik: the chain with a malformed first element',
    expect: 'refuse',
    format: 'traefik',
    from: TRUSTED_PROXY,
    headers: (m) => [['X-Forwarded-Tls-Client-Cert', `${m.good.der.toString('base64').slice(0, 100)},${m.good.der.toString('base64')}`]],
  },
  {
    id: 'FWD-RS-79',
    guards: ['X-10'],
    title: 'rfc9440: a 200 KB Client-Cert',
    expect: 'refuse',
    format: 'rfc9440',
    from: TRUSTED_PROXY,
    headers: () => [['Client-Cert', `:${Buffer.alloc(150_000, 7).toString('base64')}:`]],
  },
);
export const rsForwardedCases = rsCases;
