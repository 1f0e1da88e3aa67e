/**
 * Property-based tests of the SAN matchers (MD-4..MD-9, X-8, X-9) through the server's own matcher, with
 * certificates built byte by byte at test time. Each property states the whole rule as its oracle: a
 * certificate matches exactly when one of its SANs of the registered kind is equal under that kind's rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchCertificateToClient } from '../../src/mapping/index.js';
import { canonicalizeMappingValue, type SanKind, parseCertificate } from '../../src/pki/index.js';
import { craftCertificate, der, type GeneralNameSpec, name, OID, sanExtension } from '../helpers/asn1.js';
import { fuzzFile } from './fuzz.js';

const fuzz = fuzzFile('san.fuzz.test.ts');

/** Matches `registered` (of `kind`) against a certificate with these SANs and, as its CN, `cn` (never used: MD-9). */
function matches(kind: SanKind, registered: string, sans: GeneralNameSpec[], cn: string): boolean {
  const cert = parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.utf8(cn)]]]), ...(sans.length ? { extensions: [sanExtension(sans)] } : {}) }).der);
  const mapping = { id: 'm1', kind, value: registered, canonical: canonicalizeMappingValue(kind, registered) };
  return matchCertificateToClient(cert, [mapping], { now: new Date() }).matched;
}

const flipCase = (text: string, mask: number[]) => [...text].map((c, i) => (mask[i % mask.length]! ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('');

const labelArb = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const dnsArb = fc.array(labelArb, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const maskArb = fc.array(fc.nat({ max: 1 }), { minLength: 1, maxLength: 8 });

describe('SAN properties (MD-4..MD-9)', () => {
  it('MD-4/X-9/MD-9: a DNS SAN matches case-insensitively, literally (no wildcard), and never through the CN', () => {
    const variantArb = (registered: string) =>
      fc.oneof(
        maskArb.map((mask) => flipCase(registered, mask)),
        fc.constant(`*.${registered.split('.').slice(1).join('.') || 'example'}`),
        fc.constant(`${registered}.`),
        dnsArb,
        fc.tuple(fc.nat(), labelArb).map(([at, label]) => {
          const labels = registered.split('.');
          labels[at % labels.length] = label;
          return labels.join('.');
        }),
      );
    const caseArb = fc
      .tuple(fc.boolean(), dnsArb)
      .map(([wild, dns]) => (wild && dns.includes('.') ? `*.${dns.split('.').slice(1).join('.')}` : dns))
      .chain((registered) => fc.record({ registered: fc.constant(registered), sans: fc.array(variantArb(registered), { maxLength: 3 }), cnMask: maskArb }));
    fc.assert(
      fc.property(caseArb, ({ registered, sans, cnMask }) => {
        const expected = sans.some((san) => san.toLowerCase() === registered.toLowerCase());
        expect(
          matches(
            'san_dns',
            registered,
            sans.map((dns) => ({ dns })),
            flipCase(registered, cnMask),
          ),
        ).toBe(expected);
      }),
      fuzz.params(300),
    );
  });

  it('MD-5: a URI SAN matches only the identical string (no case, percent or path normalization)', () => {
    const uriArb = fc
      .tuple(fc.constantFrom('https', 'spiffe', 'urn', 'HTTPS'), fc.stringMatching(/^[A-Za-z0-9\-._~/?#@!$&'()*+,;=%]{1,20}$/))
      .map(([scheme, rest]) => `${scheme}://${rest.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')}`);
    const mutationArb = (uri: string) =>
      fc.oneof(
        fc.constant(uri),
        maskArb.map((mask) => flipCase(uri, mask)),
        fc.constant(`${uri}/`),
        fc.nat().map((at) => {
          const i = at % uri.length;
          return `${uri.slice(0, i)}%${uri.charCodeAt(i).toString(16).padStart(2, '0')}${uri.slice(i + 1)}`;
        }),
        fc.tuple(fc.nat(), fc.constantFrom('a', 'A', '/', '%2F', '.', '')).map(([at, c]) => {
          const i = at % uri.length;
          return `${uri.slice(0, i)}${c}${uri.slice(i + 1)}`;
        }),
      );
    const caseArb = uriArb.chain((registered) => fc.record({ registered: fc.constant(registered), sans: fc.array(mutationArb(registered), { maxLength: 3 }) }));
    fc.assert(
      fc.property(caseArb, ({ registered, sans }) => {
        expect(
          matches(
            'san_uri',
            registered,
            sans.map((uri) => ({ uri })),
            registered,
          ),
        ).toBe(sans.includes(registered));
      }),
      fuzz.params(300),
    );
  });

  it('MD-6: an IP SAN matches when the addresses are equal as bytes, whatever the text form; IPv4 never equals IPv6', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      // Few distinct values, so that equal addresses and :: compression occur often.
      fc.array(fc.constantFrom(0, 0, 0, 1, 255), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)),
    );
    /** An RFC 4291 text form: any case, optional leading zeros, any run of zero groups as ::, optional dotted-quad tail. */
    const textArb = (bytes: Uint8Array) => {
      if (bytes.length === 4) return fc.constant([...bytes].join('.'));
      return fc.record({ pad: fc.nat({ max: 3 }), upper: fc.boolean(), run: fc.nat(), dotted: fc.boolean() }).map(({ pad, upper, run, dotted }) => {
        const words = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
        let groups = words.map((w) => w.toString(16).padStart(Math.min(4, w.toString(16).length + pad), '0'));
        if (upper) groups = groups.map((g) => g.toUpperCase());
        let tail: string[] = [];
        if (dotted) {
          groups = groups.slice(0, 6);
          tail = [[...bytes.subarray(12)].join('.')];
        }
        const runs: Array<[number, number]> = [];
        for (let i = 0; i < groups.length; ) {
          if (Number.parseInt(groups[i]!, 16) !== 0) {
            i++;
            continue;
          }
          let j = i;
          while (j < groups.length && Number.parseInt(groups[j]!, 16) === 0) j++;
          runs.push([i, j]);
          i = j;
        }
        if (runs.length > 0 && run % 2 === 0) {
          const [s, e] = runs[run % runs.length]!;
          const left = groups.slice(0, s).join(':');
          const right = [...groups.slice(e), ...tail].join(':');
          return `${left}::${right}`;
        }
        return [...groups, ...tail].join(':');
      });
    };
    const mapped = (v4: Uint8Array) => Uint8Array.from([...new Array(10).fill(0), 255, 255, ...v4]);
    const caseArb = bytesArb.chain((bytes) =>
      fc.record({
        registered: textArb(bytes),
        bytes: fc.constant(bytes),
        sans: fc.array(fc.oneof(fc.constant(bytes), bytesArb, fc.constant(bytes.length === 4 ? mapped(bytes) : bytes.subarray(12))), { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(caseArb, ({ registered, bytes, sans }) => {
        const expected = sans.some((san) => Buffer.from(san).equals(Buffer.from(bytes)));
        expect(
          matches(
            'san_ip',
            registered,
            sans.map((ip) => ({ ip })),
            registered,
          ),
        ).toBe(expected);
      }),
      fuzz.params(300),
    );
  });

  it('MD-7: an e-mail SAN matches with the local part exact and the domain case-insensitive', () => {
    // A dot-atom local part: the only form a certificate's rfc822Name may carry (a malformed one is refused, X-11).
    const localArb = fc.stringMatching(/^[A-Za-z0-9_+-]{1,5}(?:\.[A-Za-z0-9_+-]{1,4})?$/);
    const caseArb = fc.tuple(localArb, dnsArb).chain(([local, domain]) =>
      fc.record({
        registered: fc.constant(`${local}@${domain}`),
        sans: fc.array(
          fc.oneof(
            fc.tuple(maskArb, maskArb).map(([lm, dm]) => `${flipCase(local, lm)}@${flipCase(domain, dm)}`),
            maskArb.map((dm) => `${local}@${flipCase(domain, dm)}`),
            fc.tuple(localArb, dnsArb).map(([l, d]) => `${l}@${d}`),
          ),
          { maxLength: 3 },
        ),
      }),
    );
    fc.assert(
      fc.property(caseArb, ({ registered, sans }) => {
        const at = registered.lastIndexOf('@');
        const expected = sans.some((san) => {
          const i = san.lastIndexOf('@');
          return san.slice(0, i) === registered.slice(0, at) && san.slice(i + 1).toLowerCase() === registered.slice(at + 1).toLowerCase();
        });
        expect(
          matches(
            'san_email',
            registered,
            sans.map((email) => ({ email })),
            registered,
          ),
        ).toBe(expected);
      }),
      fuzz.params(300),
    );
  });
});
