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
 *   against the trust anchors, forwarded-chain.ts). Both modes find the anchor the chain ends at, for SPKI pinning.
 *
 * oidc-provider calls the mTLS hooks synchronously while path validation is asynchronous, so the work
 * happens here, before the request reaches oidc-provider; mtls.ts reads the result per request.
 *
 * The chain is validated with pkijs (forwarded-chain.ts), not with the diagnosis's path builder
 * (diagnose/chain.ts): the top of forwarded-chain.ts says why the two stay apart.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyConfig } from '../config/index.js';
import { CertboundError, ConfigError, oauthErrorBody } from '../errors/index.js';
import { createForwardedCertificateExtractor } from '../forwarded/extract.js';
import { ForwardedCertificateError } from '../forwarded/errors.js';
import { headerValues } from '../forwarded/lib/headers.js';
import { createProxyTrust } from '../forwarded/proxy-trust.js';
import type { ForwardedCertificate } from '../forwarded/types.js';
import { MAX_CHAIN_CERTIFICATES, parsePemCertificates, x5tS256 } from '../pki/index.js';
import type { TrustAnchor } from '../store/index.js';
import type { ClientCertificates } from './client-certificate.js';
import { createForwardedChainValidator } from './forwarded-chain.js';
import type { ForwardedCertificateOf, ForwardedVerdict, PeerCertificate, Refusal } from './peer-certificate.js';

/** Which listener a request arrived on: only the mTLS listener uses a forwarded certificate. */
export type Listener = 'main' | 'mtls';

export interface CertificateSourceOptions {
  proxy: ProxyConfig;
  /** The current trust anchors (reloaded by the server). */
  anchors(): readonly TrustAnchor[];
  /** The server's parsed client certificates (shared with the mTLS hooks). */
  certificates: ClientCertificates;
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
  /** What {@link prepare} recorded for `req`: the mTLS hooks' certificate of that request. */
  forwardedCertificateOf: ForwardedCertificateOf;
}

function readIntermediates(file: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`CERTBOUND_PROXY_INTERMEDIATES: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause,
      hint: 'Check the path and the file permissions.',
    });
  }
  try {
    return parsePemCertificates(text);
  } catch (cause) {
    throw new ConfigError(`CERTBOUND_PROXY_INTERMEDIATES: ${file} is not a PEM bundle of certificates: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Creates the certificate source of a server behind a reverse proxy. Reads the intermediates file once
 * (ConfigError when unreadable).
 *
 * @example
 * const source = createCertificateSource({ proxy: config.proxy, anchors: () => anchors, certificates: createClientCertificates() });
 * await source.prepare(req, 'mtls'); // then source.forwardedCertificateOf(req)
 */
export function createCertificateSource(options: CertificateSourceOptions): CertificateSource {
  const { proxy } = options;
  const now = options.now ?? (() => new Date());
  const trust = createProxyTrust(proxy.trustedProxies);
  const extract = createForwardedCertificateExtractor({ format: proxy.format, header: proxy.header, trustedProxies: trust });
  const intermediates = proxy.intermediates ? readIntermediates(proxy.intermediates) : [];
  const chains = createForwardedChainValidator({ anchors: options.anchors, intermediates, now });
  const forwardedByRequest = new WeakMap<object, PeerCertificate | null>();

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
    const { parsed, parseError } = options.certificates.parse(forwarded.der);
    const anchorX5ts = new Set(options.anchors().map((a) => a.x5tS256));
    // Leaf and intermediates the client presented (an anchor, when a proxy forwards it, is not counted), as for TLS.
    const sentChainLength = 1 + forwarded.chain.filter((der) => !anchorX5ts.has(x5tS256(der))).length;
    // `chain` feeds the refusal diagnosis: what the proxy forwarded, then the configured intermediates.
    const peer: PeerCertificate = { x509, parsed, parseError, sentChainLength, anchor: undefined, chain: [...forwarded.chain, ...intermediates] };
    if (!parsed) {
      peer.forwarded = { authorized: false, code: parseError!.code, message: parseError!.message };
      return peer;
    }
    if (sentChainLength > MAX_CHAIN_CERTIFICATES) {
      // no path building over an oversized chain.
      peer.forwarded = {
        authorized: false,
        code: 'CHAIN_TOO_LONG',
        message: `The proxy forwarded a chain of ${sentChainLength} certificates; at most ${MAX_CHAIN_CERTIFICATES} are accepted.`,
      };
      return peer;
    }
    const validated = await chains.validate(forwarded.der, parsed, forwarded.chain, forwarded.chain.length);
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
    forwardedCertificateOf: (req) => forwardedByRequest.get(req),
    async prepare(req, listener) {
      const verifyValues = headerValues(req, proxy.verifyHeader.name);
      if (!trust.isTrusted(req.socket?.remoteAddress)) {
        if (verifyValues.length > 0) {
          throw new ForwardedCertificateError(
            'ERR_FORWARDED_UNTRUSTED_PEER',
            `${proxy.verifyHeader.name} received from ${req.socket?.remoteAddress ?? 'an unknown peer'}, which is not a trusted proxy`,
            {
              details: { remoteAddress: req.socket?.remoteAddress, header: proxy.verifyHeader.name },
            },
          );
        }
        // Throws ERR_FORWARDED_UNTRUSTED_PEER when the certificate header is present; otherwise the TLS connection is the source.
        extract(req);
        return;
      }
      const forwarded = extract(req);
      if (verifyValues.length > 1)
        throw new ForwardedCertificateError('ERR_FORWARDED_DUPLICATE', `${proxy.verifyHeader.name} occurs ${verifyValues.length} times; it must occur once`);
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
