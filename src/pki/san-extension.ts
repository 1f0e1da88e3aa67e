/**
 * The subjectAltName extension of a certificate, walked with der.ts's TLV reader so that iPAddress bytes
 * and IA5String bytes stay raw; every value goes through san.ts's checks (X-1, X-10, X-11).
 */
import { MAPPING_KIND_DEFINITIONS, type SanKind, sanKindOfGeneralNameTag } from '../mapping/kinds.js';
import { readTlv, TAG_CLASS, type Tlv } from './der.js';
import { certificateError, REISSUE } from './errors.js';
import { CERTIFICATE_LIMITS } from './limits.js';
import { canonicalizeCertificateSan, ipTextFromCanonical } from './san.js';

export interface CertificateSans {
  dns: string[];
  uri: string[];
  /** Canonical form: lowercase hex of the 4 or 16 address bytes. */
  ip: string[];
  /** Display form of `ip`, same order (dotted decimal / RFC 5952). */
  ipText: string[];
  email: string[];
}

/** Decodes the extension's value (GeneralNames); other name types are checked for shape and skipped. */
export function parseSanExtension(extnValue: Uint8Array): CertificateSans {
  const malformed = (why: string, cause?: unknown) =>
    certificateError('ERR_CERT_SAN_MALFORMED', `The certificate's subjectAltName extension is malformed: ${why}.`, REISSUE, cause === undefined ? {} : { cause });
  const read = readTlv(extnValue);
  if ('problem' in read) throw malformed(read.problem);
  if (read.end !== extnValue.length) throw malformed(`${extnValue.length - read.end} trailing byte(s) after the GeneralNames`);
  const root = read.tlv;
  if (root.tagClass !== TAG_CLASS.universal || root.tagNumber !== 16 || !root.constructed) throw malformed('it is not a SEQUENCE of GeneralName');
  const names: Tlv[] = [];
  for (let offset = 0; offset < root.content.length; ) {
    const entry = readTlv(root.content, offset);
    if ('problem' in entry) throw malformed(`an entry: ${entry.problem}`);
    names.push(entry.tlv);
    if (names.length > CERTIFICATE_LIMITS.maxSanEntries) {
      throw certificateError(
        'ERR_CERT_TOO_LARGE',
        `The certificate has more than ${CERTIFICATE_LIMITS.maxSanEntries} SAN entries.`,
        'Issue client certificates with only the names that identify the client.',
      );
    }
    offset = entry.end;
  }
  if (names.length === 0) throw malformed('it is empty');
  const san: CertificateSans = { dns: [], uri: [], ip: [], ipText: [], email: [] };
  for (const name of names) {
    const { tagClass, tagNumber, constructed } = name;
    if (tagClass !== TAG_CLASS.context || tagNumber > 8) {
      throw malformed(`an entry has the unexpected tag ${tagClass === TAG_CLASS.context ? `[${tagNumber}]` : `class ${tagClass} #${tagNumber}`}`);
    }
    // [0] otherName, [3] x400Address, [4] directoryName, [5] ediPartyName are constructed; [8] registeredID is an OID.
    if (tagNumber === 0 || tagNumber === 3 || tagNumber === 4 || tagNumber === 5) {
      if (!constructed) throw malformed(`entry [${tagNumber}] must be constructed`);
      continue;
    }
    if (constructed) throw malformed(`entry [${tagNumber}] uses a constructed encoding`);
    // The GeneralName types a mapping kind reads (mapping/kinds.ts); others ([8] registeredID) are skipped.
    const kind = sanKindOfGeneralNameTag(tagNumber);
    if (kind === undefined) continue;
    const field = MAPPING_KIND_DEFINITIONS[kind].generalName!.field;
    if (field === 'ip') {
      const hex = canonicalizeCertificateSan(kind, name.content);
      san.ip.push(hex);
      san.ipText.push(ipTextFromCanonical(hex));
    } else {
      san[field].push(sanText(kind, name.content));
    }
  }
  return san;
}

/** IA5String bytes → text, refusing control characters and non-ASCII (via canonicalizeCertificateSan's checks). */
function sanText(kind: SanKind, bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('latin1');
  canonicalizeCertificateSan(kind, text);
  if (text.length === 0) {
    throw certificateError('ERR_CERT_SAN_MALFORMED', `The certificate has an empty ${kind.slice(4).toUpperCase()} SAN entry.`, REISSUE);
  }
  return text;
}
