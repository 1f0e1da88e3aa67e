/**
 * Property-based tests of every proxy client-certificate header parser (spec §2.0 rule 9 "parse
 * strictly", §2.1–§2.5, X-10, X-14): on any input a parser either returns certificates or throws its
 * typed ForwardedCertificateError (status 400, a stable code, a sentence), and whatever it accepts is in
 * its format, re-encoded exactly from the certificates it returned. Certificates come from a test PKI
 * built at test time.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
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
import { createTestPki } from '../helpers/pki.js';
import { fuzzFile } from './fuzz.js';

const fuzz = fuzzFile('forwarded.fuzz.test.ts');

const CODES = ['ERR_FORWARDED_DUPLICATE', 'ERR_FORWARDED_MALFORMED', 'ERR_FORWARDED_TOO_LARGE', 'ERR_FORWARDED_HASH_MISMATCH'];

/** PEM with lines of `width` characters, optionally CRLF. */
function pem(der: Buffer, width = 64, crlf = false): string {
  const nl = crlf ? '\r\n' : '\n';
  const lines = der.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return `-----BEGIN CERTIFICATE-----${nl}${lines.join(nl)}${nl}-----END CERTIFICATE-----${nl}`;
}

const PEM_BLOCKS = /^(?:-----BEGIN CERTIFICATE-----\r?\n(?:[A-Za-z0-9+/=]+\r?\n)+-----END CERTIFICATE-----(?:\r?\n)?)+$/;
/** The base64 bodies of a strict PEM text, or undefined when it is not strict PEM. */
function pemBodies(text: string): string[] | undefined {
  if (!PEM_BLOCKS.test(text)) return undefined;
  // A block may end without a newline only at the very end of the text.
  if (/-----END CERTIFICATE-----(?!\r?\n|$)/.test(text)) return undefined;
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => m[1]!.replace(/\r?\n/g, ''));
}
const b64 = (der: Buffer) => der.toString('base64');

interface Format {
  name: string;
  /** The parser, reduced to the certificates it returned (leaf first). */
  parse(value: string): Buffer[];
  /** Valid values for these certificates (leaf first), in the spellings the format allows. */
  encode(ders: Buffer[], variant: number): string;
  /** Independent check that an accepted value is in the format and carries exactly `ders`. */
  inFormat(value: string, ders: Buffer[]): boolean;
  /** How many certificates a value carries. */
  chain: boolean;
}

const decoded = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
};

const FORMATS: Format[] = [
  {
    name: 'RFC 9440 Client-Cert (§2.1)',
    chain: false,
    parse: (v) => [parseClientCert(v).der],
    encode: ([d]) => `:${b64(d!)}:`,
    inFormat: (v, [d]) => v === `:${b64(d!)}:`,
  },
  {
    name: 'RFC 9440 Client-Cert-Chain (§2.1)',
    chain: true,
    parse: (v) => parseClientCertChain(v),
    encode: (ds, variant) => ds.map((d) => `:${b64(d)}:`).join([',', ', ', ' ,\t'][variant % 3]),
    inFormat: (v, ds) => {
      const items = v.split(/[ \t]*,[ \t]*/);
      return items.length === ds.length && items.every((item, i) => item === `:${b64(ds[i]!)}:`);
    },
  },
  {
    name: 'HAProxy base64 (§2.6)',
    chain: false,
    parse: (v) => [parseBase64Cert(v).der],
    encode: ([d]) => b64(d!),
    inFormat: (v, [d]) => v === b64(d!),
  },
  {
    name: 'nginx $ssl_client_escaped_cert (§2.2)',
    chain: false,
    parse: (v) => [parseNginxEscapedCert(v).der],
    encode: ([d], variant) => encodeURIComponent(pem(d!, [64, 76, 1000][variant % 3], variant % 2 === 1)),
    inFormat: (v, [d]) => {
      const bodies = pemBodies(decoded(v) ?? '');
      return bodies?.length === 1 && bodies[0] === b64(d!);
    },
  },
  {
    name: 'AWS ALB verify X-Amzn-Mtls-Clientcert-Leaf (§2.4)',
    chain: false,
    parse: (v) => {
      const result = parseAlbLeaf(v);
      expect(result.verified).toBe(true);
      return [result.der];
    },
    encode: ([d], variant) =>
      pem(d!, [64, 48][variant % 2])
        .replace(/ /g, '%20')
        .replace(/\n/g, '%0A'),
    inFormat: (v, [d]) => {
      const bodies = pemBodies(decoded(v) ?? '');
      return bodies?.length === 1 && bodies[0] === b64(d!);
    },
  },
  {
    name: 'AWS ALB passthrough X-Amzn-Mtls-Clientcert (§2.4)',
    chain: true,
    parse: (v) => {
      const result = parseAlbPassthrough(v);
      expect(result.verified).toBeUndefined();
      return [result.der, ...result.chain];
    },
    encode: (ds) =>
      ds
        .map((d) => pem(d))
        .join('')
        .replace(/ /g, '%20')
        .replace(/\n/g, '%0A'),
    inFormat: (v, ds) => {
      const bodies = pemBodies(decoded(v) ?? '');
      return bodies?.length === ds.length && bodies.every((body, i) => body === b64(ds[i]!));
    },
  },
  {
    name: 'Traefik X-Forwarded-Tls-Client-Cert (§2.5)',
    chain: true,
    parse: (v) => {
      const result = parseTraefikCert(v);
      return [result.der, ...result.chain];
    },
    encode: (ds, variant) => {
      const plain = ds.map(b64).join(',');
      return variant % 2 === 1 ? encodeURIComponent(plain) : plain;
    },
    inFormat: (v, ds) => {
      const plain = ds.map(b64).join(',');
      if (!v.includes('%')) return v === plain;
      return !v.includes('+') && decoded(v) === plain;
    },
  },
  {
    name: 'Envoy x-forwarded-client-cert (§2.3)',
    chain: true,
    parse: (v) => {
      const result = parseXfcc(v);
      return [result.der, ...result.chain];
    },
    encode: (ds, variant) => {
      const cert = `Cert="${encodeURIComponent(pem(ds[0]!))}"`;
      const hash = `Hash=${createHash('sha256').update(ds[0]!).digest('hex')}`;
      const chain = ds.length > 1 ? `;Chain="${encodeURIComponent(ds.map((d) => pem(d)).join(''))}"` : '';
      const subject = 'Subject="CN=a,O=b;c=d";URI=spiffe://x/y';
      return variant % 2 === 0 ? `By=spiffe://edge;${hash};${cert}${chain};${subject}` : `${cert.toLowerCase().slice(0, 4)}${cert.slice(4)}${chain}`;
    },
    inFormat: (v, ds) => {
      // One element; `key=value` pairs split on ';' outside quotes; exactly one cert, at most one hash/chain.
      const pairs: Array<[string, string]> = [];
      let current = '';
      let quoted = false;
      for (let i = 0; i < v.length; i++) {
        const c = v[i]!;
        if (quoted && c === '\\') {
          current += c + (v[i + 1] ?? '');
          i++;
          continue;
        }
        if (c === '"') quoted = !quoted;
        if (!quoted && c === ',') return false;
        if (!quoted && c === ';') {
          pairs.push(split(current));
          current = '';
          continue;
        }
        current += c;
      }
      if (quoted) return false;
      pairs.push(split(current));
      function split(pair: string): [string, string] {
        const eq = pair.indexOf('=');
        const raw = pair.slice(eq + 1).trim();
        return [pair.slice(0, eq).trim().toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw];
      }
      const values = (key: string) => pairs.filter(([k]) => k === key).map(([, value]) => value);
      const [cert, ...moreCerts] = values('cert');
      if (cert === undefined || moreCerts.length > 0 || values('hash').length > 1 || values('chain').length > 1) return false;
      const leaf = pemBodies(decoded(cert) ?? '');
      if (leaf?.length !== 1 || leaf[0] !== b64(ds[0]!)) return false;
      const hash = values('hash')[0];
      if (hash !== undefined && hash.toLowerCase() !== createHash('sha256').update(ds[0]!).digest('hex')) return false;
      const chain = values('chain')[0];
      if (chain === undefined) return ds.length === 1;
      const bodies = pemBodies(decoded(chain) ?? '');
      return bodies?.length === ds.length && bodies.every((body, i) => body === b64(ds[i]!));
    },
  },
];

let certificates: Buffer[] = [];
beforeAll(async () => {
  const pki = await createTestPki('Fuzz');
  const leaf = await pki.client({ subject: [{ CN: ['fuzz client'] }], san: [{ type: 'dns', value: 'client.example.com' }] });
  certificates = [leaf.der, pki.intermediate.der, pki.root.der];
});

/** Runs a parser; returns the certificates, or undefined after checking that the error is its typed one. */
function attempt(format: Format, value: string): Buffer[] | undefined {
  try {
    return format.parse(value);
  } catch (err) {
    if (!(err instanceof ForwardedCertificateError))
      throw new Error(`${format.name} threw something else than its typed error on ${JSON.stringify(value.slice(0, 200))}`, { cause: err });
    expect(CODES).toContain(err.code);
    expect(err.status).toBe(400);
    expect(err.message.length).toBeGreaterThan(10);
    return undefined;
  }
}

const EDIT_CHARS = [
  ':',
  ',',
  ';',
  '=',
  '"',
  '\\',
  '%',
  '%2',
  '%0A',
  '%0D%0A',
  '%2B',
  '%3D',
  '%25',
  '+',
  '/',
  '-',
  '_',
  ' ',
  '\t',
  '\n',
  'A',
  'a',
  'Q',
  '0',
  '-----',
  'é',
  '\u0000',
  '\ud800',
];
const BASE64_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'];
/** Places where encodings go wrong: the end of the base64 (padding, final character), separators, armor. */
const ANCHORS = ['', '=', ':', ',', ';', '%', '-----END', '%0A-----END', '\n-----END'];
const editArb = fc.record({
  op: fc.constantFrom('insert', 'delete', 'replace', 'duplicate', 'truncate', 'flipCase'),
  /** Position: anywhere (`''`), or a few characters around the last occurrence of an anchor. */
  anchor: fc.constantFrom(...ANCHORS),
  at: fc.nat(),
  offset: fc.integer({ min: -4, max: 2 }),
  length: fc.integer({ min: 1, max: 80 }),
  text: fc.oneof(fc.constantFrom(...EDIT_CHARS), fc.constantFrom(...BASE64_CHARS), fc.string({ maxLength: 3, unit: 'binary' })),
});
type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

function applyEdit(value: string, e: Edit): string {
  const anchored = e.anchor === '' ? -1 : value.lastIndexOf(e.anchor);
  const i = anchored === -1 ? e.at % (value.length + 1) : Math.min(value.length, Math.max(0, anchored + e.offset));
  switch (e.op) {
    case 'insert':
      return value.slice(0, i) + e.text + value.slice(i);
    case 'delete':
      return value.slice(0, i) + value.slice(i + e.length);
    case 'replace':
      return value.slice(0, i) + e.text + value.slice(i + e.text.length);
    case 'duplicate':
      return value.slice(0, i + e.length) + value.slice(i, i + e.length) + value.slice(i + e.length);
    case 'truncate':
      return value.slice(0, i);
    case 'flipCase': {
      const c = value.charAt(i);
      return value.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + value.slice(i + 1);
    }
  }
  return value;
}

describe('forwarded-header parser properties (§2.0 rule 9, X-10, X-14)', () => {
  for (const format of FORMATS) {
    describe(format.name, () => {
      it('X-14: every allowed spelling of real certificates parses back to exactly their DER', () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 3 }), fc.nat({ max: 5 }), (count, variant) => {
            const ders = certificates.slice(0, format.chain ? count : 1);
            const value = format.encode(ders, variant);
            const parsed = attempt(format, value);
            expect(parsed?.map((d) => d.toString('hex'))).toEqual(ders.map((d) => d.toString('hex')));
            expect(format.inFormat(value, ders)).toBe(true);
          }),
          fuzz.params(30),
        );
      });

      it('§2.0 rule 9: a mutated valid value is refused with the typed error, or is still exactly in the format', () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 3 }), fc.nat({ max: 5 }), fc.array(editArb, { minLength: 1, maxLength: 3 }), (count, variant, edits) => {
            const value = edits.reduce(applyEdit, format.encode(certificates.slice(0, format.chain ? count : 1), variant));
            const parsed = attempt(format, value);
            if (parsed) expect(format.inFormat(value, parsed), `accepted ${JSON.stringify(value.slice(0, 300))}`).toBe(true);
          }),
          fuzz.params(250),
        );
      });

      it('§2.0 rule 9: arbitrary text never throws anything but the typed error and is never accepted', () => {
        fc.assert(
          fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: fc.constantFrom(...EDIT_CHARS), maxLength: 60 })), (value) => {
            const parsed = attempt(format, value);
            if (parsed) expect(format.inFormat(value, parsed)).toBe(true);
          }),
          fuzz.params(150),
        );
      });
    });
  }
});
