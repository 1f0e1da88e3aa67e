/**
 * Why a valid certificate does not match a client's mappings (src/mapping). These are refusal reasons:
 * the `reason` of the `client_auth_refused` log line (the caller gets `401 invalid_client`), the `code`
 * of a diagnosis, and the `reason` label of `certbound_client_auth_refused_total`.
 */
import { MAPPING_KIND_PARAMETER, MAPPING_KINDS } from '../../mapping/kinds.js';
import type { CatalogEntry } from './entry.js';

/** The metadata members of the mapping kinds for a hint, their shared prefix said once after the first. */
const MEMBERS = MAPPING_KINDS.map((k, i) => (i === 0 ? MAPPING_KIND_PARAMETER[k] : MAPPING_KIND_PARAMETER[k].slice('tls_client_auth'.length)));

const REFUSAL = ['log', 'doctor', 'metrics'] as const;

function reason(meaning: string, hint: string): CatalogEntry {
  return { status: 401, oauthError: 'invalid_client', surfaces: REFUSAL, meaning, hint };
}

export const MAPPING_REASON_CODES = {
  NO_MAPPINGS: reason('the client has no certificate mapping', `Register the client certificate subject: exactly one of ${MEMBERS.slice(0, -1).join(', ')} or ${MEMBERS.at(-1)}.`),
  MAPPING_NOT_YET_VALID: reason('the only matching mapping starts later', 'Wait until the mapping becomes valid, or correct its not-before time.'),
  MAPPING_EXPIRED: reason('the only matching mapping has ended', 'Extend the mapping or register a new one for the certificate the client now uses.'),
  MAPPING_INVALID: reason('a stored mapping value could not be read', 'Re-register the mapping; its stored value could not be read.'),
  SUBJECT_DN_MISMATCH: reason(
    'the subject DN differs from the registered one',
    'Register the certificate subject exactly as shown (RFC 4514: most specific RDN first, the whole DN, not just the CN), or issue the certificate with the registered subject.',
  ),
  SUBJECT_DN_ORDER_REVERSED: reason(
    "the DN was registered in OpenSSL's reversed order",
    'RFC 4514 lists the most specific RDN (usually CN) first; OpenSSL oneline, Node and some libraries print the reverse. Register the DN in RFC 4514 order.',
  ),
  SAN_MISSING: reason(
    'the certificate has no SAN of the registered kind',
    'Issue the certificate with the expected subjectAltName entry, or map the client by subject DN instead.',
  ),
  SAN_MISMATCH: reason(
    'no SAN equals the registered value (wildcards are never expanded); `doctor` shows the closest',
    'Register one of the certificate SAN values exactly, or issue the certificate with the registered value. Wildcards are never expanded.',
  ),
  CN_MATCHES_BUT_SAN_EXPECTED: reason(
    'the CN holds the registered SAN value, but the CN never stands in for a SAN (RFC 8705 §2.1.2)',
    'The subject CN is never used in place of a SAN (RFC 8705 §2.1.2). Issue the certificate with this value as a subjectAltName, or map the client by subject DN.',
  ),
  WRONG_TRUST_ANCHOR: reason(
    'the chain ends at another anchor than the mapping is pinned to (e.g. a `staging` certificate for a `prod` mapping)',
    'Issue the client certificate from the CA this mapping is pinned to, or change the pinned trust anchor.',
  ),
  // Not a diagnosis code: there a chain that reached no anchor is its own finding (INTERMEDIATE_MISSING,
  // UNTRUSTED_ROOT, CHAIN_INVALID), and the pin is "not checked" beside it, so one cause has one code.
  TRUST_ANCHOR_UNKNOWN: {
    ...reason(
      'the mapping is pinned, but the chain was not validated up to a known anchor (a proxy that cannot report it); `doctor` names the chain finding instead',
      'The mapping is pinned to a trust anchor, but the chain was not validated up to a known anchor; make sure the chain is validated by the server or a trusted proxy that reports the anchor.',
    ),
    surfaces: ['log', 'metrics'],
  },
} as const satisfies Record<string, CatalogEntry>;

export type MappingReasonCode = keyof typeof MAPPING_REASON_CODES;
