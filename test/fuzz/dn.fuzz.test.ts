/**
 * Property-based tests of the RFC 4514 DN parser, renderer and comparison (PKI-4, MD-3, X-2, X-4..X-7),
 * against certificates built byte by byte at test time and the reference model in dn-model.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchCertificateToClient } from '../../src/mapping/index.js';
import { canonicalDn, canonicalizeMappingValue, dnEquals, formatRfc4514, parseCertificate, parseRfc4514 } from '../../src/pki/index.js';
import { craftCertificate, der, name } from '../helpers/asn1.js';
import { coarseFold, type DnModel, dnArb, modelEquals, mutate, mutationArb, render, spellingArb } from './dn-model.js';
import { fuzzFile } from './fuzz.js';

const fuzz = fuzzFile('dn.fuzz.test.ts');

/** A real certificate whose subject is `dn`: UTF8String values, or PrintableString where the value allows it and `printable` says so. */
function certificateWithSubject(dn: DnModel, printable: boolean) {
  const value = (v: string) => (printable && /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v) ? der.printable(v) : der.utf8(v));
  return parseCertificate(craftCertificate({ subject: name(dn.map((rdn) => rdn.map((ava) => [ava.oid, value(ava.value)] as const))) }).der);
}

/** Whether the registered `tls_client_auth_subject_dn` text authenticates a certificate (the server's own matcher). */
function registeredMatches(text: string, cert: ReturnType<typeof parseCertificate>): boolean {
  const mapping = { id: 'm1', kind: 'subject_dn' as const, value: text, canonical: canonicalizeMappingValue('subject_dn', text) };
  return matchCertificateToClient(cert, [mapping], { now: new Date() }).matched;
}

describe('DN properties (PKI-4, X-4..X-7)', () => {
  it('X-4/X-5: formatRfc4514 then parseRfc4514 gives back exactly the same DN', () => {
    fc.assert(
      fc.property(dnArb, (dn) => {
        const parsed = parseRfc4514(formatRfc4514(dn.map((rdn) => rdn.map((ava) => ({ type: ava.oid, value: ava.value })))));
        expect(parsed).toEqual(dn.map((rdn) => rdn.map((ava) => ({ type: ava.oid, value: ava.value }))));
      }),
      fuzz.params(600),
    );
  });

  it('X-4/X-6: every RFC 4514 spelling of a DN (keyword case, aliases, OIDs, escapes, spaces, AVA order) parses to it and matches its certificate', () => {
    fc.assert(
      fc.property(dnArb, spellingArb, fc.boolean(), (dn, spelling, printable) => {
        const cert = certificateWithSubject(dn, printable);
        const text = render(dn, spelling);
        expect(canonicalDn(parseRfc4514(text))).toBe(cert.subjectCanonical);
        expect(registeredMatches(text, cert)).toBe(true);
        // The certificate's own RFC 4514 rendering names the same DN.
        expect(registeredMatches(cert.subjectRfc4514, cert)).toBe(true);
      }),
      fuzz.params(300),
    );
  });

  it('PKI-4/X-7: a mutated DN matches the original certificate exactly when distinguishedNameMatch folds the mutation', () => {
    fc.assert(
      fc.property(dnArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), spellingArb, (dn, mutations, spelling) => {
        const cert = certificateWithSubject(dn, false);
        const mutated = mutations.reduce(mutate, dn);
        expect(registeredMatches(render(mutated, spelling), cert)).toBe(modelEquals(mutated, dn));
      }),
      fuzz.params(400),
    );
  });

  it('PKI-4: comparison is reflexive, symmetric and transitive, and agrees with the reference model', () => {
    fc.assert(
      fc.property(dnArb, mutationArb, mutationArb, spellingArb, (dn, m1, m2, spelling) => {
        const b = mutate(dn, m1);
        const c = mutate(b, m2);
        const [pa, pb, pc] = [dn, b, c].map((x) => parseRfc4514(render(x, spelling))) as [
          ReturnType<typeof parseRfc4514>,
          ReturnType<typeof parseRfc4514>,
          ReturnType<typeof parseRfc4514>,
        ];
        expect(dnEquals(pa, pa)).toBe(true);
        expect(dnEquals(pa, pb)).toBe(dnEquals(pb, pa));
        if (dnEquals(pa, pb) && dnEquals(pb, pc)) expect(dnEquals(pa, pc)).toBe(true);
        expect(dnEquals(pa, pb)).toBe(modelEquals(dn, b));
        expect(dnEquals(pb, pc)).toBe(modelEquals(b, c));
        // Canonicalizing is idempotent through a render: the canonical form of a re-rendered DN is unchanged.
        expect(canonicalDn(parseRfc4514(formatRfc4514(pb)))).toBe(canonicalDn(pb));
      }),
      fuzz.params(400),
    );
  });

  it('PKI-4/X-1: any single-character edit of a registered DN that still matches the certificate is a case, space or spelling difference only', () => {
    const editArb = fc.record({
      op: fc.constantFrom('insert', 'delete', 'replace'),
      at: fc.nat(),
      char: fc.oneof(
        fc.constantFrom(',', '+', '=', '\\', '#', '"', ';', ' ', '\u00a0', '\ufeff', '\u0000', '\n', 'A', 'a', '2', 'C', 'c', '.', 'é', 'É', 'ı'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      ),
    });
    fc.assert(
      fc.property(dnArb, fc.array(editArb, { minLength: 1, maxLength: 2 }), (dn, edits) => {
        const cert = certificateWithSubject(dn, false);
        const original = cert.subjectRfc4514;
        let text = original;
        for (const edit of edits) {
          const chars = [...text];
          const at = edit.at % (chars.length + (edit.op === 'insert' ? 1 : 0));
          if (edit.op === 'insert') chars.splice(at, 0, edit.char);
          else chars.splice(at, 1, ...(edit.op === 'replace' ? [edit.char] : []));
          text = chars.join('');
        }
        let matches = false;
        try {
          matches = registeredMatches(text, cert);
        } catch (err) {
          // A refused registration is fine, but only with the documented error code and a sentence.
          expect((err as { code?: string }).code).toBe('ERR_MAPPING_VALUE');
          expect((err as Error).message.length).toBeGreaterThan(10);
          return;
        }
        if (matches) expect(coarseFold(text)).toBe(coarseFold(original));
      }),
      fuzz.params(600),
    );
  });
});
