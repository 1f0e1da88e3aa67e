/**
 * Path building for the diagnosis, on OpenSSL through node:crypto (SC-7): `X509Certificate.checkIssued`
 * (names, key identifiers, keyCertSign) and `X509Certificate.verify` (the signature). Nothing here
 * decides whether a client is accepted at the token endpoint; that is OpenSSL's handshake (direct TLS)
 * or pkijs (a chain a trusted proxy forwarded, server/forwarded-chain.ts). This explains their verdict:
 * which issuer is missing, which anchor the chain ends at, which certificates were not used.
 *
 * Why this is not the proxy path's validator, and that one not this: this one must answer synchronously
 * (the refusal log line, `certbound doctor`, the admin API) and name what is wrong, one link at a time,
 * in OpenSSL's order (anchors first, then the certificates the client sent); CA validity and the leaf
 * policy (pki/leaf-policy.ts) are separate findings of the diagnosis. The proxy path decides, so it needs
 * a full RFC 5280 path validation (intermediates' name constraints and policies, pathLenConstraint, every
 * CA's validity), which pkijs gives and this does not; pkijs here would make the diagnosis asynchronous
 * and answer "no valid certificate paths found" where a person needs the missing issuer. Both use the
 * same chain limit (pki/chain-length.ts), and the proxy path takes its CHAIN_INVALID wording for a bad
 * signature from here, so the paths and `certbound doctor` give the same code.
 */
import { X509Certificate } from 'node:crypto';
import { type ParsedCertificate, parseCertificate, parsePemCertificates } from '../pki/index.js';

/** Leaf plus intermediates a client may send: the limit of every path, defined in pki/. */
export { MAX_CHAIN_CERTIFICATES } from '../pki/chain-length.js';

/** A trust anchor as the diagnosis needs it (store rows fit this shape). */
export interface DiagnosisAnchor {
  name: string;
  /** PEM of the CA certificate. */
  pem: string;
  environment?: string | null;
  /** base64url SHA-256 of the SPKI (how mappings pin anchors); computed from `pem` when absent. */
  spkiSha256?: string;
  /** H15-4: client certificates without any EKU extension are accepted under this anchor. */
  allowMissingEku?: boolean;
}

export interface ChainCertificate {
  parsed: ParsedCertificate;
  x509: X509Certificate;
  /** Where it came from. */
  source: 'leaf' | 'chain' | 'anchor';
  /** Set when source is `anchor`. */
  anchor?: DiagnosisAnchor;
}

export type ChainStatusCode = 'complete' | 'INTERMEDIATE_MISSING' | 'UNTRUSTED_ROOT' | 'CHAIN_INVALID';

export interface ChainResult {
  status: ChainStatusCode;
  /** Leaf first; ends at the anchor when complete. */
  path: ChainCertificate[];
  /** The topmost trust anchor reached (complete chains only). */
  anchor?: ChainCertificate;
  /** The issuer that could not be found: its DN and the key id the child's AKI names. */
  missingIssuer?: { subject: string; keyId?: string };
  message: string;
  /** Certificates passed in `chain` that are not on the path (wrong or extra intermediates). */
  unused: ChainCertificate[];
  /** Chain certificates that could not be parsed. */
  unreadable: { index: number; message: string }[];
  /**
   * Certificates of the client's chain on the path, leaf included, anchors excluded: what the TLS stack
   * reports and counts against the chain limit (certificates that link to nothing are not counted).
   */
  sentLength: number;
  /** The leaf is self-issued and its signature verifies with its own key. */
  leafSelfSigned: boolean;
}

interface Candidate extends ChainCertificate {
  selfSigned: boolean;
}

function toCandidate(der: Buffer, source: ChainCertificate['source'], anchor?: DiagnosisAnchor): Candidate {
  const parsed = parseCertificate(der);
  const x509 = new X509Certificate(parsed.der);
  const selfSigned = parsed.isSelfIssued && safe(() => x509.checkIssued(x509) && x509.verify(x509.publicKey));
  return { parsed, x509, source, selfSigned, ...(anchor ? { anchor } : {}) };
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}

/** OpenSSL's issuer check (name, AKI/SKI, keyCertSign), then the signature. */
function issues(issuer: Candidate, child: Candidate): 'yes' | 'bad_signature' | 'no' {
  if (!safe(() => child.x509.checkIssued(issuer.x509))) return 'no';
  if (issuer !== child && !issuer.x509.ca) return 'no';
  return safe(() => child.x509.verify(issuer.x509.publicKey)) ? 'yes' : 'bad_signature';
}

function describe(c: ChainCertificate): string {
  return c.parsed.subjectRfc4514 || '(empty subject)';
}

/**
 * Builds the path from `leaf` through `chain` to one of `anchors`, the way OpenSSL does for the mTLS
 * listener (anchors first, then the certificates the client sent), and says why it cannot when it cannot.
 */
export function buildChain(leaf: ParsedCertificate, chain: readonly Buffer[], anchors: readonly DiagnosisAnchor[]): ChainResult {
  const leafCandidate: Candidate = {
    parsed: leaf,
    x509: new X509Certificate(leaf.der),
    source: 'leaf',
    selfSigned: false,
  };
  leafCandidate.selfSigned = leaf.isSelfIssued && safe(() => leafCandidate.x509.checkIssued(leafCandidate.x509) && leafCandidate.x509.verify(leafCandidate.x509.publicKey));
  const anchorCandidates: Candidate[] = [];
  for (const anchor of anchors) {
    try {
      anchorCandidates.push(toCandidate(parsePemCertificates(anchor.pem)[0]!, 'anchor', anchor));
    } catch {
      // An unreadable anchor cannot end a chain; the store refuses such anchors at registration anyway.
    }
  }
  const anchorThumbprints = new Set(anchorCandidates.map((a) => a.parsed.x5t));
  const unreadable: { index: number; message: string }[] = [];
  const sent: Candidate[] = [];
  chain.forEach((der, index) => {
    try {
      const c = toCandidate(der, 'chain');
      if (c.parsed.x5t !== leaf.x5t && !sent.some((s) => s.parsed.x5t === c.parsed.x5t)) sent.push(c);
    } catch (err) {
      unreadable.push({ index, message: (err as Error).message });
    }
  });
  const givenIntermediates = sent.filter((c) => !anchorThumbprints.has(c.parsed.x5t)).length;

  const path: Candidate[] = [leafCandidate];
  const used = new Set<Candidate>([leafCandidate]);
  let current = leafCandidate;
  const result = (status: ChainStatusCode, message: string, extra: Partial<ChainResult> = {}): ChainResult => ({
    status,
    path,
    message,
    unused: sent.filter((c) => !used.has(c)),
    unreadable,
    sentLength: path.filter((c) => c.source !== 'anchor').length,
    leafSelfSigned: leafCandidate.selfSigned,
    ...extra,
  });

  for (let depth = 0; depth < 16; depth++) {
    // A self-signed anchor on the path ends it.
    if (current.source === 'anchor' && current.selfSigned) {
      return result('complete', `The chain is complete: it ends at the trust anchor ${current.anchor!.name} (${describe(current)}).`, { anchor: current });
    }
    let badSignature: Candidate | undefined;
    const pick = (pool: readonly Candidate[]): Candidate | undefined => {
      for (const candidate of pool) {
        if (used.has(candidate)) continue;
        const verdict = issues(candidate, current);
        if (verdict === 'yes') return candidate;
        if (verdict === 'bad_signature') badSignature ??= candidate;
      }
      return undefined;
    };
    const next = pick(anchorCandidates) ?? pick(sent.filter((c) => !anchorThumbprints.has(c.parsed.x5t)));
    if (next) {
      path.push(next);
      used.add(next);
      current = next;
      continue;
    }
    if (badSignature) {
      return result(
        'CHAIN_INVALID',
        `The signature of ${describe(current)} does not verify with the key of ${describe(badSignature)}, although that certificate has the issuer's name.`,
      );
    }
    if (current.source === 'anchor') {
      return result(
        'UNTRUSTED_ROOT',
        `The chain reaches the trust anchor ${current.anchor!.name} (${describe(current)}), which is not a root certificate, and its issuer ${current.parsed.issuerRfc4514} is not a trust anchor.`,
        {
          missingIssuer: { subject: current.parsed.issuerRfc4514, ...(current.parsed.authorityKeyId ? { keyId: current.parsed.authorityKeyId } : {}) },
        },
      );
    }
    if (current.selfSigned) {
      return result(
        'UNTRUSTED_ROOT',
        current === leafCandidate
          ? `The certificate is self-signed (${describe(current)}); it is not issued by any trust anchor.`
          : `The chain ends at the self-signed ${describe(current)}, which is not a trust anchor of this server.`,
      );
    }
    const missingIssuer = { subject: current.parsed.issuerRfc4514, ...(current.parsed.authorityKeyId ? { keyId: current.parsed.authorityKeyId } : {}) };
    const keyId = missingIssuer.keyId ? ` (key id ${missingIssuer.keyId})` : '';
    if (current === leafCandidate && givenIntermediates === 0) {
      return result('INTERMEDIATE_MISSING', `The certificate was given without its issuing CA "${missingIssuer.subject}"${keyId}, and that CA is not a trust anchor.`, {
        missingIssuer,
      });
    }
    if (current === leafCandidate) {
      return result(
        'INTERMEDIATE_MISSING',
        `None of the chain certificates issued the leaf: its issuing CA "${missingIssuer.subject}"${keyId} is missing (the chain holds ${sent.map(describe).join('; ')}).`,
        { missingIssuer },
      );
    }
    return result(
      'UNTRUSTED_ROOT',
      `The chain ends at "${describe(current)}", issued by "${missingIssuer.subject}"${keyId}, which is not a trust anchor of this server (a certificate from another CA, e.g. staging?).`,
      { missingIssuer },
    );
  }
  return result('CHAIN_INVALID', 'The chain is longer than 16 certificates or loops.');
}
