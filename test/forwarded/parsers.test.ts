import { describe, expect, it } from 'vitest';
import {
  type ForwardedCertificate,
  ForwardedCertificateError,
  parseAlbLeaf,
  parseAlbPassthrough,
  parseBase64Cert,
  parseClientCert,
  parseClientCertChain,
  parseNginxEscapedCert,
  parseTraefikCert,
  parseXfcc,
} from '../../src/forwarded/index.js';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createTestPki } from '../helpers/pki.js';
import { albEscape, nginxEscape, queryEscape, RFC9440_B64, RFC9440_DER, RFC9440_HEX, RFC9440_PEM, RFC9440_X5T, toPem } from './fixtures.js';

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ForwardedCertificateError);
  expect(caught).toMatchObject({ code, status: 400, expose: true });
}

const pki = await createTestPki('Forwarded');
const INTERMEDIATE_DER = pki.intermediate.der;

describe('X-14: all eight proxy encodings of the RFC 9440 Appendix A certificate hash to the same x5t#S256', () => {
  const cases: Array<[string, () => ForwardedCertificate]> = [
    ['RFC 9440 Client-Cert', () => parseClientCert(`:${RFC9440_B64}:`)],
    ['nginx $ssl_client_escaped_cert', () => parseNginxEscapedCert(nginxEscape(RFC9440_PEM))],
    ['Envoy XFCC Cert with Hash', () => parseXfcc(`By=spiffe://proxy;Hash=${RFC9440_HEX};Cert="${nginxEscape(RFC9440_PEM)}";Subject="CN=BC,O=x";URI=`)],
    ['AWS ALB verify-mode leaf', () => parseAlbLeaf(albEscape(RFC9440_PEM))],
    ['AWS ALB passthrough chain', () => parseAlbPassthrough(albEscape(RFC9440_PEM + toPem(INTERMEDIATE_DER)))],
    ['Traefik plain base64', () => parseTraefikCert(RFC9440_B64)],
    ['Traefik percent-escaped (QueryEscape)', () => parseTraefikCert(queryEscape(RFC9440_B64))],
    ['HAProxy %[ssl_c_der,base64]', () => parseBase64Cert(RFC9440_B64)],
  ];
  it.each(cases)('%s', (_name, parse) => {
    const cert = parse();
    expect(cert.der.equals(RFC9440_DER)).toBe(true);
    expect(x5tS256(cert.der)).toBe(RFC9440_X5T);
  });

  it('the ALB escaping keeps "+", "/" and "=" literal and is decoded with decodeURIComponent, not form decoding', () => {
    const escaped = albEscape(RFC9440_PEM);
    expect(escaped).toMatch(/[+/=]/);
    expect(x5tS256(parseAlbLeaf(escaped).der)).toBe(RFC9440_X5T);
    expect(parseAlbLeaf(escaped).verified).toBe(true);
  });

  it('ALB passthrough returns the leaf first and the rest as chain', () => {
    const cert = parseAlbPassthrough(albEscape(RFC9440_PEM + toPem(INTERMEDIATE_DER)));
    expect(cert.chain).toHaveLength(1);
    expect(cert.chain[0]!.equals(INTERMEDIATE_DER)).toBe(true);
    expect(cert.verified).toBeUndefined();
  });
});

describe('§2.1 RFC 9440 Client-Cert edge cases', () => {
  it('refuses base64url characters', () => {
    const url = RFC9440_DER.toString('base64url');
    expect(url).toMatch(/[-_]/);
    expectCode(() => parseClientCert(`:${url}:`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses missing padding and a non-canonical final character', () => {
    // The Appendix A DER is 428 bytes, so its base64 ends with exactly one "=".
    expect(RFC9440_B64).toMatch(/[^=]=$/);
    expectCode(() => parseClientCert(`:${RFC9440_B64.slice(0, -1)}:`), 'ERR_FORWARDED_MALFORMED');
    // Same bytes for Node's lenient decoder, but unused bits set: not canonical.
    const last = RFC9440_B64.at(-2)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(last) + 1]!;
    const tweaked = `${RFC9440_B64.slice(0, -2)}${sibling}=`;
    expect(Buffer.from(tweaked, 'base64').equals(RFC9440_DER)).toBe(true);
    expectCode(() => parseClientCert(`:${tweaked}:`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses PEM armor inside the colons', () => {
    expectCode(() => parseClientCert(`:${RFC9440_PEM.replace(/\n/g, '')}:`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses "::"', () => expectCode(() => parseClientCert('::'), 'ERR_FORWARDED_MALFORMED'));
  it('refuses whitespace inside the colons', () => {
    expectCode(() => parseClientCert(`: ${RFC9440_B64}:`), 'ERR_FORWARDED_MALFORMED');
    expectCode(() => parseClientCert(`:${RFC9440_B64.slice(0, 40)} ${RFC9440_B64.slice(40)}:`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses a list value (what Node makes of two Client-Cert lines)', () => {
    expectCode(() => parseClientCert(`:${RFC9440_B64}:, :${RFC9440_B64}:`), 'ERR_FORWARDED_DUPLICATE');
  });
  it('refuses missing colons and SF parameters', () => {
    expectCode(() => parseClientCert(RFC9440_B64), 'ERR_FORWARDED_MALFORMED');
    expectCode(() => parseClientCert(`:${RFC9440_B64}:;a=1`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses trailing bytes after the DER certificate', () => {
    const padded = Buffer.concat([RFC9440_DER, Buffer.from([0, 0])]).toString('base64');
    expectCode(() => parseClientCert(`:${padded}:`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses bytes that are not a certificate', () => {
    expectCode(() => parseClientCert(`:${Buffer.from('hello world!').toString('base64')}:`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses a certificate above 16 KiB (X-10)', () => {
    const big = Buffer.alloc(17 * 1024, 0x30).toString('base64');
    expectCode(() => parseClientCert(`:${big}:`), 'ERR_FORWARDED_TOO_LARGE');
  });
  it('Client-Cert-Chain parses a list in TLS order and caps its length', () => {
    const one = `:${INTERMEDIATE_DER.toString('base64')}:`;
    const root = `:${pki.root.der.toString('base64')}:`;
    const chain = parseClientCertChain(`${one}, ${root}`);
    expect(chain.map((d) => x5tS256(d))).toEqual([x5tS256(INTERMEDIATE_DER), x5tS256(pki.root.der)]);
    expectCode(() => parseClientCertChain(Array(11).fill(one).join(', ')), 'ERR_FORWARDED_TOO_LARGE');
    expectCode(() => parseClientCertChain(`${one},, ${root}`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses a header value longer than the cap', () => {
    expectCode(() => parseClientCert(`:${RFC9440_B64}:`, { maxHeaderLength: 100 }), 'ERR_FORWARDED_TOO_LARGE');
  });
});

describe('§2.2 nginx / strict PEM', () => {
  it('refuses two PEM blocks where one is expected', () => {
    expectCode(() => parseNginxEscapedCert(nginxEscape(RFC9440_PEM + RFC9440_PEM)), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses trailing garbage after the PEM block', () => {
    expectCode(() => parseNginxEscapedCert(nginxEscape(`${RFC9440_PEM}garbage`)), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses leading text before the PEM block', () => {
    expectCode(() => parseNginxEscapedCert(nginxEscape(`subject=CN=BC\n${RFC9440_PEM}`)), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses invalid percent-encoding', () => {
    expectCode(() => parseNginxEscapedCert('-----BEGIN%20CERTIFICATE-----%0AMII%ZZ'), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses form decoding artefacts: a "+" turned into a space', () => {
    expectCode(() => parseNginxEscapedCert(nginxEscape(RFC9440_PEM.replace(/\+/g, ' '))), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses the deprecated TAB-folded $ssl_client_cert form', () => {
    expectCode(() => parseNginxEscapedCert(nginxEscape(RFC9440_PEM.replace(/\n/g, '\n\t'))), 'ERR_FORWARDED_MALFORMED');
  });
  it('accepts CRLF line endings and a missing final newline', () => {
    expect(x5tS256(parseNginxEscapedCert(nginxEscape(RFC9440_PEM.replace(/\n/g, '\r\n'))).der)).toBe(RFC9440_X5T);
    expect(x5tS256(parseNginxEscapedCert(nginxEscape(RFC9440_PEM.trimEnd())).der)).toBe(RFC9440_X5T);
  });
  it('refuses an empty value', () => expectCode(() => parseNginxEscapedCert(''), 'ERR_FORWARDED_MALFORMED'));
});

describe('§2.3 Envoy XFCC edge cases', () => {
  const cert = `Cert="${nginxEscape(RFC9440_PEM)}"`;
  it('a "," inside a quoted Subject does not split elements', () => {
    expect(x5tS256(parseXfcc(`Subject="CN=BC,O=Let's Authenticate";${cert}`).der)).toBe(RFC9440_X5T);
  });
  it('an escaped quote inside a quoted value is handled', () => {
    expect(x5tS256(parseXfcc(`Subject="CN=\\"B,C\\"";${cert}`).der)).toBe(RFC9440_X5T);
  });
  it('keys are case-insensitive', () => {
    expect(x5tS256(parseXfcc(`cErT="${nginxEscape(RFC9440_PEM)}";HASH=${RFC9440_HEX.toUpperCase()}`).der)).toBe(RFC9440_X5T);
  });
  it('refuses unbalanced quotes', () => {
    expectCode(() => parseXfcc(`Subject="CN=BC;${cert}`), 'ERR_FORWARDED_MALFORMED');
    expectCode(() => parseXfcc(`Subject=CN"BC;${cert}`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses two elements (two hops)', () => {
    expectCode(() => parseXfcc(`${cert},${cert}`), 'ERR_FORWARDED_DUPLICATE');
    expectCode(() => parseXfcc(`By=spiffe://a,${cert}`), 'ERR_FORWARDED_DUPLICATE');
  });
  it('refuses a duplicate Cert', () => expectCode(() => parseXfcc(`${cert};${cert}`), 'ERR_FORWARDED_DUPLICATE'));
  it('refuses a Hash that does not match the Cert', () => {
    const wrong = `${RFC9440_HEX.slice(0, -1)}${RFC9440_HEX.endsWith('0') ? '1' : '0'}`;
    expectCode(() => parseXfcc(`Hash=${wrong};${cert}`), 'ERR_FORWARDED_HASH_MISMATCH');
    expectCode(() => parseXfcc(`Hash=xyz;${cert}`), 'ERR_FORWARDED_MALFORMED');
  });
  it('refuses Hash without Cert (Hash alone is not trusted)', () => expectCode(() => parseXfcc(`Hash=${RFC9440_HEX}`), 'ERR_FORWARDED_MALFORMED'));
  it('accepts repeated By and returns Chain without the leaf', () => {
    const chain = `Chain="${nginxEscape(RFC9440_PEM + toPem(INTERMEDIATE_DER))}"`;
    const parsed = parseXfcc(`By=spiffe://a;By=spiffe://b;${cert};${chain}`);
    expect(parsed.chain.map((d) => x5tS256(d))).toEqual([x5tS256(INTERMEDIATE_DER)]);
  });
  it('refuses a Chain that does not start with the Cert', () => {
    const chain = `Chain="${nginxEscape(toPem(INTERMEDIATE_DER) + RFC9440_PEM)}"`;
    expectCode(() => parseXfcc(`${cert};${chain}`), 'ERR_FORWARDED_MALFORMED');
  });
  it('X-10: a Chain of 50 certificates is refused quickly', () => {
    const chain = `Chain="${nginxEscape(RFC9440_PEM.repeat(50))}"`;
    const started = performance.now();
    expectCode(() => parseXfcc(`${cert};${chain}`, { maxHeaderLength: 1024 * 1024 }), 'ERR_FORWARDED_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('§2.4/§2.5 ALB and Traefik edge cases', () => {
  it('ALB leaf refuses a chain', () => expectCode(() => parseAlbLeaf(albEscape(RFC9440_PEM + toPem(INTERMEDIATE_DER))), 'ERR_FORWARDED_MALFORMED'));
  it('ALB passthrough caps the chain length', () => {
    expectCode(() => parseAlbPassthrough(albEscape(RFC9440_PEM.repeat(11))), 'ERR_FORWARDED_TOO_LARGE');
  });
  it('Traefik: first item is the leaf, the rest the chain', () => {
    const parsed = parseTraefikCert(`${RFC9440_B64},${INTERMEDIATE_DER.toString('base64')}`);
    expect(x5tS256(parsed.der)).toBe(RFC9440_X5T);
    expect(parsed.chain).toHaveLength(1);
  });
  it('Traefik: percent-escaped comma-joined chain', () => {
    const parsed = parseTraefikCert(queryEscape(`${RFC9440_B64},${INTERMEDIATE_DER.toString('base64')}`));
    expect(x5tS256(parsed.der)).toBe(RFC9440_X5T);
    expect(parsed.chain).toHaveLength(1);
  });
  it('Traefik: refuses PEM armor, base64url, whitespace and a mix of "%" with literal "+"', () => {
    expectCode(() => parseTraefikCert(RFC9440_PEM), 'ERR_FORWARDED_MALFORMED');
    expectCode(() => parseTraefikCert(RFC9440_DER.toString('base64url')), 'ERR_FORWARDED_MALFORMED');
    expectCode(() => parseTraefikCert(`${RFC9440_B64} `), 'ERR_FORWARDED_MALFORMED');
    expectCode(() => parseTraefikCert(`${RFC9440_B64.replace('/', '%2F')}`), 'ERR_FORWARDED_MALFORMED');
  });
  it('HAProxy base64: refuses line breaks', () => {
    expectCode(() => parseBase64Cert(RFC9440_B64.replace(/(.{64})/g, '$1\n')), 'ERR_FORWARDED_MALFORMED');
  });
});
