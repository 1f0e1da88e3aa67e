/**
 * The one leaf-certificate policy for tls_client_auth (H15-4, SC-6, X-11, X-12), applied by the server to
 * every client certificate whatever path it came by (the TLS handshake or any proxy header format) and
 * by the diagnosis. Chain validation is not here (OpenSSL or the proxy path's validator does it, SC-7);
 * this decides whether the leaf itself is a TLS client certificate:
 *
 * - X.509 version 3 (a v1 or v2 certificate cannot say that it is not a CA, nor what it is for);
 * - not a CA: no basicConstraints cA=TRUE and no keyCertSign (RFC 5280 §4.2.1.9, §4.2.1.3);
 * - an extendedKeyUsage with clientAuth; anyExtendedKeyUsage alone does not count. A certificate without
 *   any EKU extension is accepted only under a trust anchor that allows it (`allowMissingEku`), for
 *   legacy PKIs that issue no EKU;
 * - digitalSignature when keyUsage is present (the client signs the TLS CertificateVerify);
 * - no critical extension that certbound does not process (RFC 5280 §4.2).
 *
 * Strict parsing (duplicate extensions, malformed SANs, malformed known extensions) happens before, in
 * parseCertificate: a certificate that does not parse never reaches this policy.
 */
import { id_ce_basicConstraints, id_ce_certificatePolicies, id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import { EKU_CLIENT_AUTH, extensionName, type ParsedCertificate } from './certificate.js';

export type LeafPolicyCode = 'LEAF_NOT_V3' | 'LEAF_IS_CA' | 'EKU_NOT_CLIENT_AUTH' | 'EKU_MISSING' | 'KEY_USAGE_NO_DIGITAL_SIGNATURE' | 'UNKNOWN_CRITICAL_EXTENSION';

export interface LeafPolicyViolation {
  code: LeafPolicyCode;
  /** What is wrong with this certificate, in a sentence. */
  message: string;
}

export interface LeafPolicyOptions {
  /**
   * The trust anchor the chain ends at allows a leaf with no EKU extension at all (never one whose EKU
   * lacks clientAuth). Unknown anchor (chain not validated to a known anchor): false.
   */
  allowMissingEku: boolean;
}

/** Critical extensions a client certificate may carry: the ones this policy (or certificatePolicies' no-op) processes. */
const PROCESSED_CRITICAL = new Set([id_ce_basicConstraints, id_ce_keyUsage, id_ce_extKeyUsage, id_ce_subjectAltName, id_ce_certificatePolicies]);

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** `serverAuth, 1.2.3.4` for a list of EKU OIDs (messages, the diagnosis). */
export function ekuNames(oids: readonly string[]): string[] {
  return oids.map((o) => EKU_NAMES[o] ?? o);
}

type Leaf = Pick<ParsedCertificate, 'version' | 'basicConstraints' | 'keyUsage' | 'extendedKeyUsage' | 'criticalExtensions'>;

/**
 * Every rule the leaf breaks, in a fixed order (the first one is the reason reported). `EKU_MISSING` is
 * reported only when `allowMissingEku` is false, and is the only violation that depends on the anchor.
 *
 * @example
 * const violations = checkLeafPolicy(parseCertificate(pem), { allowMissingEku: false });
 * if (violations.length) console.log(violations[0].code); // e.g. 'LEAF_IS_CA'
 */
export function checkLeafPolicy(leaf: Leaf, options: LeafPolicyOptions): LeafPolicyViolation[] {
  const out: LeafPolicyViolation[] = [];
  if (leaf.version !== 3) {
    out.push({
      code: 'LEAF_NOT_V3',
      message: `The client certificate is an X.509 version ${leaf.version} certificate; only version 3 certificates, which state what they may be used for, are accepted.`,
    });
  }
  if (leaf.basicConstraints?.ca) {
    out.push({ code: 'LEAF_IS_CA', message: 'The client certificate is a CA certificate (basicConstraints cA=TRUE); a CA certificate cannot authenticate a client.' });
  } else if (leaf.keyUsage?.includes('keyCertSign')) {
    out.push({
      code: 'LEAF_IS_CA',
      message: 'The client certificate may sign certificates (keyUsage keyCertSign) without being a CA; such a certificate cannot authenticate a client.',
    });
  }
  const eku = leaf.extendedKeyUsage;
  if (eku === undefined) {
    if (!options.allowMissingEku) {
      out.push({ code: 'EKU_MISSING', message: 'The client certificate has no Extended Key Usage extension; certbound requires clientAuth to be stated explicitly.' });
    }
  } else if (!eku.includes(EKU_CLIENT_AUTH)) {
    out.push({ code: 'EKU_NOT_CLIENT_AUTH', message: `The client certificate's Extended Key Usage is ${ekuNames(eku).join(', ')}, without clientAuth.` });
  }
  if (leaf.keyUsage && !leaf.keyUsage.includes('digitalSignature')) {
    out.push({
      code: 'KEY_USAGE_NO_DIGITAL_SIGNATURE',
      message: `The client certificate's keyUsage is ${leaf.keyUsage.join(', ')}, without digitalSignature, so its key may not sign the TLS handshake.`,
    });
  }
  const unknown = leaf.criticalExtensions.filter((oid) => !PROCESSED_CRITICAL.has(oid));
  if (unknown.length) {
    out.push({
      code: 'UNKNOWN_CRITICAL_EXTENSION',
      message: `The client certificate has ${unknown.length === 1 ? 'a critical extension' : 'critical extensions'} that certbound does not process: ${unknown.map(extensionName).join(', ')} (RFC 5280 §4.2: such a certificate must be refused).`,
    });
  }
  return out;
}
