/** What the DN tests share: certificates issued by a test PKI with a given subject, and the comparison as the matcher makes it. */
import { beforeAll } from 'vitest';
import { type DistinguishedName, dnEquals, parseCertificate, parseRfc4514 } from '../../../src/pki/index.js';
import { errorOf as errorOfAny } from '../../helpers/errors.js';
import { createTestPki, type NameSpec, type TestPki } from '../../helpers/pki.js';

/** A test PKI made before the file's tests; `subjectOf` is the subject DN of a certificate it issues with this JSON name (ASN.1 order). */
export function useDnPki(): { subjectOf(spec: NameSpec): Promise<DistinguishedName> } {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki('DN');
  });
  return {
    subjectOf: async (spec) => parseCertificate((await pki.client({ subject: spec })).der).subject,
  };
}

export const errorOf = (fn: () => unknown) => errorOfAny<{ code?: string; message: string; hint?: string; status?: number }>(fn);

/** Whether a registered RFC 4514 DN matches a certificate's DN. */
export const dnMatches = (registered: string, cert: DistinguishedName) => dnEquals(parseRfc4514(registered), cert);
