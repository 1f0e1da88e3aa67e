/**
 * Path validation of a chain a trusted proxy forwarded (CERTBOUND_PROXY_CHAIN_VALIDATION=validate), with
 * pkijs: the verdict that OpenSSL's handshake gives a direct TLS client, for a certificate that arrived in
 * a header. Results are cached per leaf and chain, for a minute and never past a certificate's notAfter.
 *
 * Why this is not the diagnosis's path builder (src/diagnose/chain.ts), and that one not this:
 * - this one decides, so it must be a full RFC 5280 path validation: every CA's validity,
 *   basicConstraints and keyCertSign, the name constraints and policies of intermediates (pkijs), plus
 *   what pkijs leaves out and OpenSSL applies (pathLenConstraint, the trust anchor's own name
 *   constraints, below). Node offers no X509_verify_cert outside a handshake, so OpenSSL cannot be asked;
 * - the diagnosis explains, synchronously (the refusal log line, `certbound doctor`, the admin API), in
 *   OpenSSL's path-building order, naming the missing issuer, the anchor reached and the unused
 *   certificates. It checks one link at a time (checkIssued, verify) and reports CA validity and the leaf
 *   policy as separate findings; used as the proxy's verdict it would accept chains pkijs and OpenSSL
 *   refuse (intermediate name constraints, pathLenConstraint). pkijs in the diagnosis would make it
 *   asynchronous and answer "no valid certificate paths found" where a person needs the missing issuer.
 * What both paths do share: the chain length limit (pki/chain-length.ts), the leaf policy
 * (pki/leaf-policy.ts through client-certificate.ts, applied before either verdict), the anchor's name
 * constraints (pki/name-constraints.ts), and the code for a signature that does not verify, which this
 * file takes from the diagnosis's path builder (badSignature) so that all paths say CHAIN_INVALID.
 */
import { createHash } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { buildChain } from '../diagnose/chain.js';
import { loadPkijs, nameConstraintViolation, type ParsedCertificate, parseCertificate, parsePemCertificates, x5tS256 } from '../pki/index.js';
import type { TrustAnchor } from '../store/index.js';
import type { ForwardedVerdict } from './peer-certificate.js';

/** Path-validation results are reused for this long (and never past a certificate's notAfter). */
const VALIDATION_CACHE_MS = 60_000;
const VALIDATION_CACHE_MAX = 1000;

export interface PathResult {
  verdict: ForwardedVerdict;
  anchor: TrustAnchor | undefined;
  /** Epoch ms after which the result must be recomputed. */
  until: number;
}

export interface ForwardedChainValidatorOptions {
  /** The current trust anchors (reloaded by the server). */
  anchors(): readonly TrustAnchor[];
  /** CERTBOUND_PROXY_INTERMEDIATES: candidates for every path, after what the proxy forwarded. */
  intermediates: readonly Buffer[];
  /** Clock for validity checks (tests). */
  now(): Date;
}

export interface ForwardedChainValidator {
  /** pkijs path validation of `leaf` (+ `chain` and the configured intermediates) to a trust anchor. */
  validate(leaf: Buffer, parsed: ParsedCertificate, chain: Buffer[], forwardedChainLength: number): Promise<PathResult>;
}

type Pkijs = typeof pkijs;

function toPkijs(P: Pkijs, der: Buffer): pkijs.Certificate {
  return P.Certificate.fromBER(new Uint8Array(der));
}

function extensionOf(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

const OID_BASIC_CONSTRAINTS = '2.5.29.19';

function isSelfIssued(cert: pkijs.Certificate): boolean {
  return cert.subject.isEqual(cert.issuer);
}

/**
 * What pkijs 3's engine leaves out, checked on the path it validated: RFC 5280 §6.1.4 (l)/(m)
 * pathLenConstraint. (The leaf's own rules, keyUsage included, are the leaf policy's: client-certificate.ts.)
 */
function supplementaryChecks(path: pkijs.Certificate[]): string | undefined {
  for (let i = 1; i < path.length; i++) {
    const bc = extensionOf(path[i]!, OID_BASIC_CONSTRAINTS)?.parsedValue as pkijs.BasicConstraints | undefined;
    const limit = bc?.pathLenConstraint;
    if (typeof limit !== 'number') continue;
    // Non-self-issued intermediates below this CA (between it and the leaf).
    const below = path.slice(1, i).filter((c) => !isSelfIssued(c)).length;
    if (below > limit) return `a CA certificate allows at most ${limit} intermediate(s) below it (pathLenConstraint) and the chain has ${below}`;
  }
  return undefined;
}

/**
 * The trust anchor's name constraints over the certificates below it, as OpenSSL applies them on the TLS
 * path (pkijs applies those of intermediates only). Self-issued intermediates are exempt (RFC 5280 §6.1.3 (b)).
 */
function anchorNameConstraints(anchor: ParsedCertificate | Error, path: pkijs.Certificate[], leaf: ParsedCertificate, derOf: Map<pkijs.Certificate, Buffer>): string | undefined {
  if (anchor instanceof Error) return `the trust anchor certificate cannot be read (${anchor.message}); re-add it`;
  const constraints = anchor.nameConstraints;
  if (!constraints) return undefined;
  for (const cert of path.slice(0, -1)) {
    let parsed: ParsedCertificate;
    if (cert === path[0]) parsed = leaf;
    else {
      if (isSelfIssued(cert)) continue;
      try {
        parsed = parseCertificate(derOf.get(cert)!);
      } catch (err) {
        return `an intermediate certificate could not be read to apply the trust anchor's name constraints (${(err as Error).message})`;
      }
    }
    const violation = nameConstraintViolation(constraints, parsed);
    if (violation) return `${cert === path[0] ? 'the client certificate' : `the intermediate ${parsed.subjectRfc4514}`} breaks the trust anchor's name constraints: ${violation}`;
  }
  return undefined;
}

/**
 * When no path to an anchor verifies: the reason, if it is a certificate whose issuer is there (name, key
 * identifier, keyCertSign) but whose signature does not verify with that issuer's key. The diagnosis's
 * path builder (OpenSSL through node:crypto) decides, so that the proxy path, the TLS path and
 * `certbound doctor` give the same code.
 */
function badSignature(leaf: ParsedCertificate, chain: Buffer[], anchors: readonly { anchor: TrustAnchor }[]): string | undefined {
  try {
    const built = buildChain(
      leaf,
      chain,
      anchors.map((a) => a.anchor),
    );
    return built.status === 'CHAIN_INVALID' ? built.message : undefined;
  } catch {
    return undefined;
  }
}

/** The validator of one certificate source: its anchors converted for pkijs and its results cache. */
export function createForwardedChainValidator(options: ForwardedChainValidatorOptions): ForwardedChainValidator {
  const { now, intermediates } = options;
  // Anchors converted for pkijs once per reload (the server replaces the array when anchors change).
  let anchorsSeen: readonly TrustAnchor[] | undefined;
  let trusted: { cert: pkijs.Certificate; anchor: TrustAnchor; x5t: string; parsed: ParsedCertificate | Error }[] = [];
  const cache = new Map<string, PathResult>();
  function currentAnchors(P: Pkijs) {
    const anchors = options.anchors();
    if (anchors !== anchorsSeen) {
      anchorsSeen = anchors;
      cache.clear();
      trusted = anchors.map((anchor) => {
        const der = parsePemCertificates(anchor.pem)[0]!;
        let parsed: ParsedCertificate | Error;
        try {
          parsed = parseCertificate(der);
        } catch (err) {
          // Stored before a stricter parser: chains ending here are refused with the reason, the server keeps serving.
          parsed = err as Error;
        }
        return { cert: toPkijs(P, der), anchor, x5t: x5tS256(der), parsed };
      });
    }
    return trusted;
  }

  /** pkijs path validation of `leaf` (+ `chain` and the configured intermediates) to a trust anchor. */
  async function validatePath(leaf: Buffer, parsed: ParsedCertificate, chain: Buffer[], forwardedChainLength: number): Promise<PathResult> {
    const at = now();
    const P = await loadPkijs();
    const anchors = currentAnchors(P);
    const key = createHash('sha256').update(leaf).update(Buffer.concat(chain)).digest('base64url');
    const hit = cache.get(key);
    if (hit && hit.until > at.getTime()) return hit;

    const fail = (code: string, message: string, until = at.getTime() + VALIDATION_CACHE_MS): PathResult => ({
      verdict: { authorized: false, code, message },
      anchor: undefined,
      until,
    });
    let result: PathResult;
    if (at < parsed.notBefore) {
      result = fail(
        'CERT_NOT_YET_VALID',
        `The client certificate is not valid before ${parsed.notBefore.toISOString()}; check the clocks or the certificate.`,
        parsed.notBefore.getTime(),
      );
    } else if (at > parsed.notAfter) {
      result = fail('CERT_EXPIRED', `The client certificate expired on ${parsed.notAfter.toISOString()}; the client needs a renewed certificate.`);
    } else {
      result = await runEngine(P, leaf, parsed, chain, forwardedChainLength, anchors, at, fail);
    }
    cache.set(key, result);
    if (cache.size > VALIDATION_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    return result;
  }

  async function runEngine(
    P: Pkijs,
    leaf: Buffer,
    parsed: ParsedCertificate,
    chain: Buffer[],
    forwardedChainLength: number,
    anchors: typeof trusted,
    at: Date,
    fail: (code: string, message: string) => PathResult,
  ): Promise<PathResult> {
    const leafX5t = x5tS256(leaf);
    const anchorX5ts = new Set(anchors.map((a) => a.x5t));
    // pkijs takes the LAST element of `certs` as the end-entity certificate: the leaf goes last, and no
    // other copy of it (or of an anchor) may be among the candidates.
    const candidates: Buffer[] = [];
    const seen = new Set<string>([leafX5t]);
    for (const der of [...chain, ...intermediates]) {
      const t = x5tS256(der);
      if (seen.has(t) || anchorX5ts.has(t)) continue;
      seen.add(t);
      candidates.push(der);
    }
    let leafCert: pkijs.Certificate;
    let certs: pkijs.Certificate[];
    const derOf = new Map<pkijs.Certificate, Buffer>();
    try {
      leafCert = toPkijs(P, leaf);
      certs = [
        ...candidates.map((der) => {
          const c = toPkijs(P, der);
          derOf.set(c, der);
          return c;
        }),
        leafCert,
      ];
    } catch (cause) {
      return fail('CHAIN_INVALID', `A forwarded certificate could not be decoded for path validation (${(cause as Error).message}).`);
    }
    const engine = new P.CertificateChainValidationEngine({ trustedCerts: anchors.map((a) => a.cert), certs, checkDate: at });
    let outcome: pkijs.CertificateChainValidationEngineVerifyResult;
    try {
      outcome = await engine.verify();
    } catch (cause) {
      return fail('CHAIN_INVALID', `The client certificate chain did not verify (${(cause as Error).message}).`);
    }
    if (!outcome.result) {
      if (/no valid certificate paths? found|unable to find certificate path/i.test(outcome.resultMessage)) {
        // pkijs says the same for a signature that does not verify; OpenSSL (the TLS path) and the
        // diagnosis call that CHAIN_INVALID, and so does this path.
        const signature = badSignature(parsed, [...chain, ...intermediates], anchors);
        if (signature) return fail('CHAIN_INVALID', signature);
        if (forwardedChainLength === 0 && !parsed.isSelfIssued && !candidates.length) {
          return fail(
            'INTERMEDIATE_MISSING',
            `The proxy forwarded the client certificate without the issuing CA "${parsed.issuerRfc4514}". Add the intermediate CA certificates to CERTBOUND_PROXY_INTERMEDIATES (nginx forwards the leaf only), or add that CA's root as a trust anchor.`,
          );
        }
        return fail(
          'UNTRUSTED_ROOT',
          `The certificate chain of "${parsed.issuerRfc4514}" does not lead to a trust anchor of this server (a certificate from another CA, e.g. staging, or an intermediate missing from CERTBOUND_PROXY_INTERMEDIATES?).`,
        );
      }
      if (outcome.resultCode === 8) return fail('CHAIN_INVALID', 'A CA certificate in the client certificate chain is expired or not yet valid.');
      return fail('CHAIN_INVALID', `The client certificate chain did not verify (${outcome.resultMessage || `pkijs code ${outcome.resultCode}`}).`);
    }
    const path = outcome.certificatePath ?? [];
    // Defensive: the validated path must start at the forwarded leaf and end at one of our anchors.
    const trustedAnchor = anchors.find((a) => a.cert === path.at(-1));
    const anchor = trustedAnchor?.anchor;
    if (path[0] !== leafCert || !trustedAnchor || !anchor)
      return fail('CHAIN_INVALID', 'The validated path does not start at the client certificate or does not end at a trust anchor.');
    const extra = supplementaryChecks(path) ?? anchorNameConstraints(trustedAnchor.parsed, path, parsed, derOf);
    if (extra) return fail('CHAIN_INVALID', `The client certificate chain did not verify: ${extra}.`);
    const notAfter = Math.min(...path.map((c) => c.notAfter.value.getTime()));
    return { verdict: { authorized: true }, anchor, until: Math.min(at.getTime() + VALIDATION_CACHE_MS, notAfter) };
  }

  return { validate: validatePath };
}
