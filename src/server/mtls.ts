/**
 * The oidc-provider `features.mTLS` hooks. They are synchronous (oidc-provider calls them so): the
 * certificate is parsed once per TLS connection and cached on it; the client's mappings arrive with
 * the client metadata (see client-metadata.ts); every refusal leaves a coded reason on the context for
 * the refusal log line.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { type CertificateMapping, matchCertificateToClient } from '../mapping/index.js';
import { MAX_CHAIN_CERTIFICATES, x5tS256 } from '../pki/index.js';
import type { TrustAnchor } from '../store/index.js';
import type { ClientCertificates } from './client-certificate.js';
import { type StoredMapping, toCertificateMappings } from './client-metadata.js';
import type { ForwardedCertificateOf, PeerCertificate, Refusal } from './peer-certificate.js';

interface KoaLikeContext {
  req: { socket: unknown };
  state: Record<string, unknown>;
  oidc?: { client?: { clientId: string; [k: string]: unknown } };
}

/** Entries kept per cache of leaf thumbprints (oldest dropped first). */
const LEAF_CACHE_MAX = 10_000;

/** Remembers `value` under `key` as the newest entry of a bounded map. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > LEAF_CACHE_MAX) map.delete(map.keys().next().value as string);
}

/** Maps OpenSSL's verification error (socket.authorizationError) to a reason a person can act on. */
export function tlsVerifyReason(code: string | undefined, peer: PeerCertificate): { code: string; message: string } {
  const issuer = peer.parsed?.issuerRfc4514 ?? peer.x509.issuer.replace(/\n/g, ', ');
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return { code: 'CERT_EXPIRED', message: `The client certificate expired on ${new Date(peer.x509.validTo).toISOString()}; the client needs a renewed certificate.` };
    case 'CERT_NOT_YET_VALID':
      return {
        code: 'CERT_NOT_YET_VALID',
        message: `The client certificate is not valid before ${new Date(peer.x509.validFrom).toISOString()}; check the clocks or the certificate.`,
      };
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      if (peer.sentChainLength <= 1 && !peer.parsed?.isSelfIssued) {
        return {
          code: 'INTERMEDIATE_MISSING',
          message: `The client sent its certificate without the issuing CA "${issuer}". Configure the client to send its full chain (leaf + intermediate), or add that CA's root as a trust anchor.`,
        };
      }
      return {
        code: 'UNTRUSTED_ROOT',
        message: `The certificate chain ends at "${issuer}", which is not a trust anchor of this server (a certificate from another CA, e.g. staging?).`,
      };
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return { code: 'UNTRUSTED_ROOT', message: `The certificate chain ends at the self-signed "${issuer}", which is not a trust anchor of this server.` };
    case 'CERT_CHAIN_TOO_LONG':
      return { code: 'CHAIN_TOO_LONG', message: 'The client certificate chain is longer than this server accepts.' };
    // OpenSSL checks the EKU for TLS client authentication itself (purpose sslclient).
    case 'INVALID_PURPOSE':
      return { code: 'EKU_NOT_CLIENT_AUTH', message: 'The client certificate has an Extended Key Usage without clientAuth (e.g. serverAuth only); issue it with clientAuth.' };
    // PKI-5: CRLs in the TLS context (Node sets CRL_CHECK_ALL: every certificate of the chain is checked).
    case 'CERT_REVOKED':
      return { code: 'REVOKED', message: "A certificate of the client chain is revoked (listed in its CA's CRL); the client needs a new certificate." };
    case 'UNABLE_TO_GET_CRL':
    case 'UNABLE_TO_GET_CRL_ISSUER':
      return { code: 'CRL_UNAVAILABLE', message: 'CRL checking is on and there is no CRL for a CA of the client chain; add it with certbound trust crl add.' };
    case 'CRL_HAS_EXPIRED':
    case 'CRL_NOT_YET_VALID':
      return { code: 'CRL_STALE', message: `A CRL needed for the client chain is not current (${code}); check its source (certbound trust crl list).` };
    default:
      return { code: 'CHAIN_INVALID', message: `The client certificate chain did not verify (${code ?? 'unknown error'}).` };
  }
}

function socketOf(ctx: KoaLikeContext): TLSSocket | undefined {
  const s = ctx.req.socket as TLSSocket | undefined;
  return s && typeof (s as TLSSocket).getPeerX509Certificate === 'function' ? s : undefined;
}

export interface MtlsHooksOptions {
  /** Current trust anchors by certificate x5t#S256 (reloaded by the server). */
  anchorsByThumbprint(): ReadonlyMap<string, TrustAnchor>;
  /** The server's parsed client certificates and leaf policy verdicts (shared with the certificate source). */
  certificates: ClientCertificates;
  /** Behind a trusted proxy: the certificate the proxy forwarded for a request (certificate-source.ts). */
  forwardedCertificateOf?: ForwardedCertificateOf;
  /** Where a refusal is reported (logging, metrics). */
  onRefusal?: (refusal: Refusal) => void;
  /** PKI-5: a certificate listed in a loaded CRL (also for resumed sessions and forwarded certificates). */
  revocationCheck?: (peer: PeerCertificate) => { code: string; message: string } | undefined;
}

/**
 * The hooks of one server. Every cache lives in here, so two servers in one process share nothing: the
 * peer certificate of each connection, and by leaf thumbprint the anchor and the chain a full handshake
 * found (a resumed session reports neither).
 */
export function createMtlsHooks(options: MtlsHooksOptions) {
  const { certificates } = options;
  const forwardedCertificateOf: ForwardedCertificateOf = options.forwardedCertificateOf ?? (() => undefined);
  const peerCache = new WeakMap<object, PeerCertificate | null>();
  /** Leaf x5t#S256 → the anchor its chain ended at in a full handshake. */
  const anchorOfLeaf = new Map<string, TrustAnchor>();
  /** Leaf x5t#S256 → the chain a full handshake reported, for the diagnosis of resumed sessions. */
  const chainOfLeaf = new Map<string, Buffer[]>();
  const mappingCache = new WeakMap<object, CertificateMapping[]>();

  function chainFor(leaf: string, chain: Buffer[], resumed: boolean): Buffer[] {
    if (chain.length === 0) return resumed ? (chainOfLeaf.get(leaf) ?? []) : chain;
    remember(chainOfLeaf, leaf, chain);
    return chain;
  }

  function clientMappings(client: { [k: string]: unknown } | undefined): CertificateMapping[] {
    if (!client) return [];
    const cached = mappingCache.get(client);
    if (cached) return cached;
    const mappings = toCertificateMappings((client.certbound_mappings ?? []) as StoredMapping[]);
    mappingCache.set(client, mappings);
    return mappings;
  }

  /** Reads and caches the peer certificate of the request's TLS connection (undefined: none presented). */
  function peerCertificate(ctx: KoaLikeContext): PeerCertificate | undefined {
    // Behind a trusted proxy the forwarded header is the only source (null: it forwarded none).
    const forwarded = forwardedCertificateOf(ctx.req);
    if (forwarded !== undefined) return forwarded ?? undefined;
    const socket = socketOf(ctx);
    if (!socket) return undefined;
    const cached = peerCache.get(socket);
    if (cached !== undefined) return cached ?? undefined;
    // getPeerCertificate(true) must come first: after getPeerX509Certificate() Node returns the leaf
    // without its issuer chain.
    const detailed = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | undefined;
    const x509 = detailed?.raw ? new X509Certificate(detailed.raw) : undefined;
    if (!x509) {
      peerCache.set(socket, null);
      return undefined;
    }
    const leafThumbprint = x5tS256(x509.raw);
    const { parsed, parseError } = certificates.parse(x509.raw, leafThumbprint);
    // Walk the chain Node reports: what the client sent, completed from the trust store when possible.
    // The element that is a configured trust anchor tells which anchor the chain ended at.
    let sentChainLength = 0;
    let anchor: TrustAnchor | undefined;
    const anchors = options.anchorsByThumbprint();
    let node = detailed;
    const seen = new Set<unknown>();
    const chain: Buffer[] = [];
    while (node?.raw && !seen.has(node)) {
      seen.add(node);
      if (node !== detailed) chain.push(node.raw);
      const a = anchors.get(x5tS256(node.raw));
      if (a) anchor = a;
      else sentChainLength++;
      node = node.issuerCertificate as typeof node;
    }
    if (!socket.authorized) anchor = undefined;
    else if (anchor) remember(anchorOfLeaf, leafThumbprint, anchor);
    // A resumed TLS session carries the verified leaf but not its chain: reuse what the full handshake found.
    else if (socket.isSessionReused()) {
      const remembered = anchorOfLeaf.get(leafThumbprint);
      // only while that anchor is still trusted
      anchor = remembered ? anchors.get(remembered.x5tS256) : undefined;
    }
    const peer: PeerCertificate = { x509, parsed, parseError, sentChainLength, anchor, chain: chainFor(leafThumbprint, chain, socket.isSessionReused()) };
    peerCache.set(socket, peer);
    return peer;
  }

  /** What certificateAuthorized checks once a certificate is there (chain, its length, EKU, revocation), as a reason. */
  function chainRefusal(peer: PeerCertificate, socket: TLSSocket | undefined): { code: string; message: string } | undefined {
    if (peer.parseError) return { code: peer.parseError.code, message: peer.parseError.message };
    if (peer.sentChainLength > MAX_CHAIN_CERTIFICATES) {
      return {
        code: 'CHAIN_TOO_LONG',
        message: `The client sent a chain of ${peer.sentChainLength} certificates; at most ${MAX_CHAIN_CERTIFICATES} (leaf and intermediates) are accepted.`,
      };
    }
    // H15-4: the leaf policy, by the same function for a TLS and a forwarded certificate, before either
    // path's chain verdict (OpenSSL and the proxy validator word leaf problems differently, or not at all).
    const leaf = peer.parsed && certificates.leafRefusal(peer.parsed);
    if (leaf) return leaf;
    if (peer.forwarded) {
      // PKI-3: validated by the trusted proxy (proxy-verified) or by certbound's path validation (validate).
      if (!peer.forwarded.authorized) return { code: peer.forwarded.code, message: peer.forwarded.message };
    } else if (!socket!.authorized) {
      return tlsVerifyReason(String(socket!.authorizationError ?? ''), peer);
    }
    const missingEku = peer.parsed && certificates.missingEkuRefusal(peer.parsed, peer.anchor);
    if (missingEku) return missingEku;
    return options.revocationCheck?.(peer);
  }

  function refuse(ctx: KoaLikeContext, code: string, message: string, details?: unknown): false {
    const peer = peerCertificate(ctx);
    const refusal: Refusal = {
      code,
      message,
      ref: randomUUID().slice(0, 8),
      clientId: ctx.oidc?.client?.clientId,
      // A certificate that does not parse is still named, so that the line matches doctor's output.
      thumbprint: peer?.parsed?.x5t ?? (peer ? x5tS256(peer.x509.raw) : undefined),
      details,
    };
    ctx.state.certboundRefusal = refusal;
    options.onRefusal?.(refusal);
    return false;
  }

  return {
    peerCertificate,

    /** features.mTLS.getCertificate: the certificate proven in this connection's handshake, or undefined. */
    getCertificate(ctx: KoaLikeContext): X509Certificate | undefined {
      const peer = peerCertificate(ctx);
      if (!peer) {
        // Behind a trusted proxy the header is the only source: null means the proxy forwarded none.
        const message =
          forwardedCertificateOf(ctx.req) === null
            ? `The trusted proxy (${(ctx.req.socket as { remoteAddress?: string } | undefined)?.remoteAddress ?? 'unknown address'}) forwarded no client certificate: the client presented none to the proxy, or the proxy does not pass it on (its client-certificate header, CERTBOUND_CLIENT_CERT_HEADER).`
            : 'No client certificate was presented in the TLS handshake; use the mTLS endpoint (mtls_endpoint_aliases) with the client certificate.';
        ctx.state.certboundRefusal ??= { code: 'CERT_NOT_PRESENTED', message, ref: randomUUID().slice(0, 8), clientId: ctx.oidc?.client?.clientId };
        return undefined;
      }
      return peer.x509;
    },

    /** features.mTLS.certificateAuthorized: OpenSSL verified the chain against a trust anchor; usable for client auth. */
    certificateAuthorized(ctx: KoaLikeContext): boolean {
      const peer = peerCertificate(ctx);
      const socket = socketOf(ctx);
      if (!peer || (!socket && !peer.forwarded)) return refuse(ctx, 'CERT_NOT_PRESENTED', 'No client certificate was presented.');
      const refused = chainRefusal(peer, socket);
      return refused ? refuse(ctx, refused.code, refused.message) : true;
    },

    /**
     * features.mTLS.certificateSubjectMatches. oidc-provider passes the single RFC 8705 registration
     * value; certbound accepts any currently valid mapping of the client (rotation), so the decision
     * uses all mappings carried in the client metadata.
     */
    certificateSubjectMatches(ctx: KoaLikeContext, _property: string, _expected: string): boolean {
      const peer = peerCertificate(ctx);
      if (!peer?.parsed) return refuse(ctx, 'CERT_NOT_PRESENTED', 'No usable client certificate was presented.');
      const mappings = clientMappings(ctx.oidc?.client);
      const result = matchCertificateToClient(peer.parsed, mappings, { now: new Date(), anchorSpki: peer.anchor?.spkiSha256 });
      if (result.matched) {
        // The mapping that authenticated the client (last-seen certificate per mapping).
        ctx.state.certboundMatchedMapping = result.mapping.id;
        return true;
      }
      const first = result.reasons[0];
      return refuse(ctx, first?.code ?? 'NO_MAPPINGS', first?.message ?? 'The client has no certificate mappings.', result.reasons);
    },

    /**
     * Whether the request's certificate authenticates `client` as registered now, by the token endpoint's
     * checks (certificateAuthorized and a current mapping; for a self-signed client, one of `selfSigned`),
     * without recording a refusal: the reason when it does not. The admin API asks it on every call, since
     * its tokens outlive a certificate taken out of service.
     */
    stillAuthenticates(
      req: { socket: unknown },
      client: { authMethod: string; mappings: readonly CertificateMapping[] },
      selfSigned?: { keys: Record<string, unknown>[] },
    ): string | undefined {
      const ctx = { req, state: {} };
      const peer = peerCertificate(ctx);
      if (!peer?.parsed) return 'no usable client certificate';
      if (client.authMethod === 'tls_client_auth') {
        const socket = socketOf(ctx);
        if (!socket && !peer.forwarded) return 'no client certificate';
        const refused = chainRefusal(peer, socket);
        if (refused) return refused.message;
        const result = matchCertificateToClient(peer.parsed, client.mappings, { now: new Date(), anchorSpki: peer.anchor?.spkiSha256 });
        return result.matched ? undefined : (result.reasons[0]?.message ?? 'the client has no certificate mappings');
      }
      if (client.authMethod === 'self_signed_tls_client_auth') {
        const der = peer.x509.raw.toString('base64');
        return selfSigned?.keys.some((k) => Array.isArray(k.x5c) && k.x5c[0] === der) ? undefined : 'it is not one of the certificates registered for the client';
      }
      // A public client's certificate proves possession only: it never authenticates the client.
      if (client.authMethod === 'none') return 'the client is public: a certificate does not authenticate it';
      return undefined;
    },
  };
}

export type MtlsHooks = ReturnType<typeof createMtlsHooks>;
