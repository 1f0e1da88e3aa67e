/**
 * `--from-cert FILE --match KIND`: the mapping value read from the certificate itself, so nobody retypes
 * a DN (and a DN is stored in RFC 4514 order, most specific RDN first).
 */
import { InvalidInputError } from '../errors/index.js';
import { MAPPING_KIND_DEFINITIONS, type MappingKind, MATCH_KINDS } from '../mapping/kinds.js';
import { parseCertificate, parsePemCertificates } from '../pki/index.js';

/**
 * Reads the value of `match` from the first certificate of `pem`. A certificate with several SANs of
 * that kind needs `pick` (one of them), so the choice is explicit.
 *
 * @example
 * mappingValueFromCertificate(readFileSync('client.pem', 'utf8'), 'subject-dn'); // { kind: 'subject_dn', value: 'CN=billing,O=Acme,C=US' }
 */
export function mappingValueFromCertificate(pem: string, match: string, pick?: string): { kind: MappingKind; value: string } {
  const kind = MATCH_KINDS[match];
  if (!kind) {
    throw new InvalidInputError('ERR_MATCH_KIND', `--match ${match} is not one of ${Object.keys(MATCH_KINDS).join(', ')}.`, { hint: 'e.g. --match subject-dn or --match san-dns' });
  }
  const ders = parsePemCertificates(pem);
  const cert = parseCertificate(ders[0]!);
  if (kind === 'subject_dn') {
    if (cert.subjectRfc4514 === '') {
      throw new InvalidInputError('ERR_CERT_NO_VALUE', 'The certificate has an empty subject.', { hint: 'Match a SAN instead, e.g. --match san-dns.' });
    }
    return { kind, value: cert.subjectRfc4514 };
  }
  const { label, certificateValues } = MAPPING_KIND_DEFINITIONS[kind];
  const values = certificateValues(cert);
  if (values.length === 0) {
    throw new InvalidInputError('ERR_CERT_NO_VALUE', `The certificate has no ${label} SAN (subject ${cert.subjectRfc4514 || 'empty'}).`, {
      hint: 'Pick another --match (subject-dn matches the whole subject DN), or issue the certificate with that SAN. The CN is never used as a SAN.',
    });
  }
  if (pick !== undefined) {
    if (!values.includes(pick)) throw new InvalidInputError('ERR_CERT_NO_VALUE', `The certificate has no ${label} SAN ${pick}; it has ${values.join(', ')}.`);
    return { kind, value: pick };
  }
  if (values.length > 1) {
    throw new InvalidInputError('ERR_CERT_SEVERAL_VALUES', `The certificate has ${values.length} ${label} SANs: ${values.join(', ')}.`, {
      hint: `Choose one with --value, e.g. --value ${values[0]}.`,
    });
  }
  return { kind, value: values[0]! };
}
