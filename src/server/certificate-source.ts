/**
 * Where the client certificate of a request comes from: this connection's TLS handshake (the default), or
 * a header set by a trusted TLS-terminating reverse proxy (CERTBOUND_TRUSTED_PROXIES +
 * CERTBOUND_CLIENT_CERT_HEADER).
 *
 * The rules (RFC 9440 §4, checklist §2.0, PKI-3, SC-4, T-1, BT-7):
 * - forwarding not configured: forwarded headers are never read; the TLS socket is the only source;
 * - a request from a trusted proxy (TCP peer address, never X-Forwarded-For): the header is the only
 *   source, never the proxy's own TLS connection; no header means no certificate;
 * - a forwarding header (certificate or verify header) from any other peer, a repeated header or a
 *   malformed one: the request is refused (400) and logged, never treated as "no certificate";
 * - the forwarded chain counts for tls_client_auth only when validated: by the proxy (`proxy-verified`,
 *   its verify header from a trusted peer) or by certbound itself (`validate`, pkijs path validation
 *   against the trust anchors). Both modes find the anchor the chain ends at, for SPKI pinning.
 *
 * oidc-provider calls the mTLS hooks synchronously while path validation is asynchronous, so the work
 * happens here, before the request reaches oidc-provider; mtls.ts reads the result per request.
 */
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as pkijs from 'pkijs';
import type { ProxyConfig } from '../config/index.js';
import { buildChain } from '../diagnose/chain.js';
import { CertboundError, ConfigError, oauthErrorBody } from '../errors/index.js';
import { createForwardedCertificateExtractor } from '../forwarded/extract.js';
import { ForwardedCertificateError } from '../forwarded/errors.js';
import { headerValues } from '../forwarded/lib/headers.js';
import { createProxyTrust } from '../forwarded/proxy-trust.js';
import type { ForwardedCertificate } from '../forwarded/types.js';
import { loadPkijs, nameConstraintViolation, type ParsedCertificate, parseCertificate, parsePemCertificates, x5tS256 } from '../pki/index.js';
import type { TrustAnchor } from '../store/index.js';
import { parseClientCertificate } from './client-certificate.js';
import type { PeerCertificate, Refusal } from './mtls.js';

/** The chain verdict of a forwarded certificate (what `socket.authorized` is for a TLS one). */
export type ForwardedVerdict = { authorized: true } | { authorized: false; code: string; message: string };

/** Which listener a request arrived on: only the mTLS listener uses a forwarded certificate. */
export type Listener = 'main' | 'mtls';

const forwardedByRequest = new WeakMap<object, PeerCertificate | null>();

/**
 * The forwarded certificate of a request, as prepared by {@link CertificateSource.prepare}:
 * a certificate; `null` when the request came from a trusted proxy without one (never fall back to the
 * proxy's own TLS connection); `undefined` when the TLS connection is the source.
 */
export function forwardedCertificateOf(req: object): PeerCertificate | null | undefined {
  return forwardedByRequest.get(req);
}

export interface CertificateSourceOptions {
  proxy: ProxyConfig;
  /** The current trust anchors (reloaded by the server). */
  anchors(): readonly TrustAnchor[];
  /** X-10: leaf plus intermediates accepted (mtls.ts MAX_CHAIN_CERTIFICATES); longer chains are not path-validated. */
  maxChainCertificates: number;
  /** Clock for validity checks (tests). */
  now?: () => Date;
}

export interface CertificateSource {
  readonly proxy: ProxyConfig;
  /**
   * Reads the forwarded certificate of `req` (validating its chain in `validate` mode) and records it
   * for the mTLS hooks. Throws {@link ForwardedCertificateError} when the request must be refused.
   */
  prepare(req: IncomingMessage, listener: Listener): Promise<void>;
}

/** Path-validation results are reused for this long (and never past a certificate's notAfter). */
const VALIDATION_CACHE_MS = 60_000;
const VALIDATION_CACHE_MAX = 1000;

interface PathResult {
  verdict: ForwardedVerdict;
  anchor: TrustAnchor | undefined;
  /** Epoch ms after which the result must be recomputed. */
  until: number;
}

function readIntermediates(file: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`CERTBOUND_PROXY_INTERMEDIATES: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause, hint: 'Check the path and the file permissions.' });
  }
  try {
    return parsePemCertificates(text);
  } catch (cause) {
    throw new ConfigError(`CERTBOUND_PROXY_INTERMEDIATES: ${file} is not a PEM bundle of certificates: ${(cause as Error).message}`, { cause });
  }
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
    const built = buildChain(leaf, chain, anchors.map((a) => a.anchor));
    return built.status === 'CHAIN_INVALID' ? built.message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the certificate source of a server behind a reverse proxy. Reads the intermediates file once
 * (ConfigError when unreadable).
 *
 * @example
 * const source = createCertificateSource({ proxy: config.proxy, anchors: () => anchors, maxChainCertificates: 5 });
 * await source.prepare(req, 'mtls'); // then forwardedCertificateOf(req)
 */
export function createCertificateSource(options: CertificateSourceOptions): CertificateSource {
  const { proxy } = options;
  const now = options.now ?? (() => new Date());
  const trust = createProxyTrust(proxy.trustedProxies);
  const extract = createForwardedCertificateExtractor({ format: proxy.format, header: proxy.header, trustedProxies: trust });
  const intermediates = proxy.intermediates ? readIntermediates(proxy.intermediates) : [];

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

    const fail = (code: string, message: string, until = at.getTime() + VALIDATION_CACHE_MS): PathResult => ({ verdict: { authorized: false, code, message }, anchor: undefined, until });
    let result: PathResult;
    if (at < parsed.notBefore) {
      result = fail('CERT_NOT_YET_VALID', `The client certificate is not valid before ${parsed.notBefore.toISOString()}; check the clocks or the certificate.`, parsed.notBefore.getTime());
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
        return fail('UNTRUSTED_ROOT', `The certificate chain of "${parsed.issuerRfc4514}" does not lead to a trust anchor of this server (a certificate from another CA, e.g. staging, or an intermediate missing from CERTBOUND_PROXY_INTERMEDIATES?).`);
      }
      if (outcome.resultCode === 8) return fail('CHAIN_INVALID', 'A CA certificate in the client certificate chain is expired or not yet valid.');
      return fail('CHAIN_INVALID', `The client certificate chain did not verify (${outcome.resultMessage || `pkijs code ${outcome.resultCode}`}).`);
    }
    const path = outcome.certificatePath ?? [];
    // Defensive: the validated path must start at the forwarded leaf and end at one of our anchors.
    const trustedAnchor = anchors.find((a) => a.cert === path.at(-1));
    const anchor = trustedAnchor?.anchor;
    if (path[0] !== leafCert || !trustedAnchor || !anchor) return fail('CHAIN_INVALID', 'The validated path does not start at the client certificate or does not end at a trust anchor.');
    const extra = supplementaryChecks(path) ?? anchorNameConstraints(trustedAnchor.parsed, path, parsed, derOf);
    if (extra) return fail('CHAIN_INVALID', `The client certificate chain did not verify: ${extra}.`);
    const notAfter = Math.min(...path.map((c) => c.notAfter.value.getTime()));
    return { verdict: { authorized: true }, anchor, until: Math.min(at.getTime() + VALIDATION_CACHE_MS, notAfter) };
  }

  function proxyVerdict(req: IncomingMessage, forwarded: ForwardedCertificate): ForwardedVerdict {
    // AWS ALB verify mode: choosing that format is the statement that the ALB validated the chain.
    if (forwarded.verified === true) return { authorized: true };
    const values = headerValues(req, proxy.verifyHeader.name);
    if (values.length === 1 && values[0] === proxy.verifyHeader.success) return { authorized: true };
    const shown = values.length === 0 ? 'no header' : values.length > 1 ? `${values.length} headers` : JSON.stringify(values[0]!.slice(0, 120));
    return {
      authorized: false,
      code: 'PROXY_NOT_VERIFIED',
      message: `The proxy did not report a verified client certificate (${proxy.verifyHeader.name}: ${shown}; expected ${proxy.verifyHeader.success}). The certificate is not from a CA the proxy trusts, or the proxy does not set ${proxy.verifyHeader.name}.`,
    };
  }

  async function toPeer(req: IncomingMessage, forwarded: ForwardedCertificate): Promise<PeerCertificate> {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(forwarded.der);
    } catch (cause) {
      throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${proxy.header} does not hold a certificate Node can read`, { cause });
    }
    const { parsed, parseError } = parseClientCertificate(forwarded.der);
    const anchorX5ts = new Set(options.anchors().map((a) => a.x5tS256));
    // Leaf and intermediates the client presented (an anchor, when a proxy forwards it, is not counted), as for TLS.
    const sentChainLength = 1 + forwarded.chain.filter((der) => !anchorX5ts.has(x5tS256(der))).length;
    // `chain` feeds the refusal diagnosis: what the proxy forwarded, then the configured intermediates.
    const peer: PeerCertificate = { x509, parsed, parseError, sentChainLength, anchor: undefined, chain: [...forwarded.chain, ...intermediates] };
    if (!parsed) {
      peer.forwarded = { authorized: false, code: parseError!.code, message: parseError!.message };
      return peer;
    }
    if (sentChainLength > options.maxChainCertificates) {
      // X-10: no path building over an oversized chain.
      peer.forwarded = { authorized: false, code: 'CHAIN_TOO_LONG', message: `The proxy forwarded a chain of ${sentChainLength} certificates; at most ${options.maxChainCertificates} are accepted.` };
      return peer;
    }
    const validated = await validatePath(forwarded.der, parsed, forwarded.chain, forwarded.chain.length);
    if (proxy.chainValidation === 'validate') {
      peer.forwarded = validated.verdict;
      peer.anchor = validated.anchor;
    } else {
      peer.forwarded = proxyVerdict(req, forwarded);
      // The proxy vouches for the chain; the anchor (for SPKI pinning) is known only when certbound can
      // rebuild the path itself. Unknown → a pinned mapping refuses (TRUST_ANCHOR_UNKNOWN), never guesses.
      peer.anchor = peer.forwarded.authorized && validated.verdict.authorized ? validated.anchor : undefined;
    }
    return peer;
  }

  return {
    proxy,
    async prepare(req, listener) {
      const verifyValues = headerValues(req, proxy.verifyHeader.name);
      if (!trust.isTrusted(req.socket?.remoteAddress)) {
        if (verifyValues.length > 0) {
          throw new ForwardedCertificateError('ERR_FORWARDED_UNTRUSTED_PEER', `${proxy.verifyHeader.name} received from ${req.socket?.remoteAddress ?? 'an unknown peer'}, which is not a trusted proxy`, {
            details: { remoteAddress: req.socket?.remoteAddress, header: proxy.verifyHeader.name },
          });
        }
        // Throws ERR_FORWARDED_UNTRUSTED_PEER when the certificate header is present; otherwise the TLS connection is the source.
        extract(req);
        return;
      }
      const forwarded = extract(req);
      if (verifyValues.length > 1) throw new ForwardedCertificateError('ERR_FORWARDED_DUPLICATE', `${proxy.verifyHeader.name} occurs ${verifyValues.length} times; it must occur once`);
      // The main listener never takes a client certificate (AL-4), whatever the proxy sends.
      forwardedByRequest.set(req, forwarded && listener === 'mtls' ? await toPeer(req, forwarded) : null);
    },
  };
}

/**
 * Wraps the node request handler of one listener: runs {@link CertificateSource.prepare} first and
 * answers a refused forwarding header with 400 `invalid_request` (the log line has the reason and ref).
 * Without a source (forwarding not configured) the handler is returned unchanged.
 */
export function withCertificateSource(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  source: CertificateSource | undefined,
  listener: Listener,
  onRefusal: (refusal: Refusal) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  if (!source) return handler;
  return (req, res) => {
    source
      .prepare(req, listener)
      .then(
        () => handler(req, res),
        (err: unknown) => {
          const known = err instanceof CertboundError;
          const refusal: Refusal = {
            code: known ? err.code : 'FORWARDED_CERTIFICATE_ERROR',
            message: known ? err.message : 'The forwarded client certificate could not be processed.',
            ref: randomUUID().slice(0, 8),
            details: { remoteAddress: req.socket?.remoteAddress, listener, ...(known ? {} : { error: String(err) }) },
          };
          onRefusal(refusal);
          // Internal failures are not the client's fault: 500 server_error, never details (STYLE habit 3).
          const exposed = known && err.status < 500;
          res
            .writeHead(exposed ? err.status : 500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
            .end(
              JSON.stringify(
                exposed
                  ? oauthErrorBody('invalid_request', `client certificate header refused (ref ${refusal.ref}); the authorization server's log explains why`)
                  : oauthErrorBody('server_error', `internal error (ref ${refusal.ref})`),
              ),
            );
        },
      )
      // A synchronous throw of the handler itself must not become an unhandled rejection (a crash).
      .catch(() => {
        if (res.headersSent) res.destroy();
        else res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(oauthErrorBody('server_error')));
      });
  };
}
