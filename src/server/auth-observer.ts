/**
 * What happens around client authentication at the token, introspection and revocation endpoints,
 * after oidc-provider decided:
 * - a refusal is logged once, as `client_auth_refused` with the correlation id the client sees and the
 *   full diagnosis of the certificate (src/diagnose, the engine `certbound doctor` uses). The diagnosis is
 *   computed only on refusal, before the response is sent, so the line is there when the client reads
 *   its error;
 * - a self_signed_tls_client_auth refusal (decided inside oidc-provider, not in the mTLS hooks) gets its
 *   code, SELF_SIGNED_NOT_REGISTERED;
 * - a success records the certificate as the client's last seen (at most once per client per minute,
 *   written after the response).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Diagnosis } from '../diagnose/index.js';
// The diagnosis engine (app/diagnosis.ts, src/diagnose) is loaded on the first refusal (loaders.ts): a
// server that only issues tokens never holds it (docs/performance.md, memory).
import { CERTIFICATE_CODE_PRECEDENCE } from '../diagnose/reasons.js';
import type { CrlStalePolicy, VerifiedCrl } from '../pki/index.js';
import type { Queryable, TrustAnchor } from '../store/index.js';
import { createLastSeenRecorder } from './last-seen.js';
import { load } from './loaders.js';
import type { PeerCertificate, Refusal } from './peer-certificate.js';
import type { RecordedRefusal } from './recent-refusals.js';

interface ObservedContext {
  req: { socket: unknown };
  state: Record<string, unknown>;
  body?: unknown;
  oidc?: { route?: string; client?: { clientId: string; tokenEndpointAuthMethod?: string; [k: string]: unknown } };
}

export interface AuthObserverOptions {
  db: Queryable;
  logger: Logger;
  peerCertificate(ctx: ObservedContext): PeerCertificate | undefined;
  anchors(): readonly TrustAnchor[];
  crls(): readonly VerifiedCrl[];
  crlStale: CrlStalePolicy;
  /** SS-4: the server's fetched copy of a client's jwks_uri, for the diagnosis. */
  publishedKeys?: (clientId: string, uri: string) => { keys: Record<string, unknown>[] } | undefined;
  /** For a client that publishes its certificates at a jwks_uri: when the set was fetched and when it can be again (words for the refusal). */
  publishedSetNote?: (clientId: string) => string | undefined;
  /** Told each refusal once it is logged (the admin API's lookup by ref). */
  onRefusal?: (refusal: RecordedRefusal) => void;
  /** Minimum time between two last-seen writes of one client. Default 60 s. */
  lastSeenIntervalMs?: number;
}

/**
 * OpenSSL reports only the last error it met; with CRLs in the context, a missing CRL can hide why a chain
 * does not verify. For these codes the diagnosis (which checks each step) names the real reason.
 */
const REFINABLE = new Set(['CRL_UNAVAILABLE', 'CRL_STALE', 'CHAIN_INVALID', 'INTERMEDIATE_MISSING', 'UNTRUSTED_ROOT']);
const CERTIFICATE_CODES = new Set<string>(CERTIFICATE_CODE_PRECEDENCE);

export function createAuthObserver(options: AuthObserverOptions) {
  const { db, logger } = options;
  const lastSeen = createLastSeenRecorder({ db, logger, minIntervalMs: options.lastSeenIntervalMs ?? 60_000 });

  async function diagnose(refusal: Refusal, peer: PeerCertificate | undefined): Promise<{ diagnosis?: Diagnosis; diagnosis_error?: string }> {
    if (!peer) return {};
    try {
      const { diagnoseFromStore } = await load.diagnosis();
      const diagnosis = await diagnoseFromStore(db, {
        leaf: peer.x509.raw,
        chain: peer.chain ?? [],
        clientId: refusal.clientId,
        anchors: options.anchors(),
        crls: options.crls(),
        crlStale: options.crlStale,
        publishedKeys: options.publishedKeys,
        // Near misses are for an administrator asking (doctor, the admin API); a refusal stays cheap.
        nearMisses: false,
      });
      return { diagnosis };
    } catch (err) {
      return { diagnosis_error: (err as Error).message };
    }
  }

  async function logRefusal(ctx: ObservedContext, refusal: Refusal): Promise<void> {
    if (refusal.binding) {
      // The certificate is not refused (it may authenticate the client): it is not the one the token is bound to.
      options.onRefusal?.({ ref: refusal.ref, at: new Date(), reason: refusal.code, message: refusal.message, clientId: refusal.clientId, thumbprint: refusal.thumbprint });
      logger.warn({ event: 'token_binding_refused', reason: refusal.code, ref: refusal.ref, client_id: refusal.clientId, x5t: refusal.thumbprint }, refusal.message);
      return;
    }
    // A refused client assertion (or its key) is not about the certificate: no certificate diagnosis.
    const peer = refusal.code === 'CLIENT_ASSERTION_INVALID' || refusal.keyId !== undefined ? undefined : options.peerCertificate(ctx);
    const { diagnosis, diagnosis_error } = await diagnose(refusal, peer);
    // Forwarded certificates were validated by the proxy or by certificate-source.ts: that verdict stands.
    if (!peer?.forwarded && diagnosis?.code && REFINABLE.has(refusal.code) && CERTIFICATE_CODES.has(diagnosis.code) && diagnosis.code !== refusal.code) {
      refusal.details = { tls_reported: refusal.code, tls_message: refusal.message, ...(refusal.details === undefined ? {} : { details: refusal.details }) };
      refusal.code = diagnosis.code;
      refusal.message = diagnosis.message;
    }
    // The diagnosis words it best (anchor names and environments, closest values) when it agrees; a
    // forwarded certificate's own message knows the proxy settings (e.g. CERTBOUND_PROXY_INTERMEDIATES).
    const message =
      (!peer?.forwarded && diagnosis?.code === refusal.code ? diagnosis.message : refusal.message) +
      (refusal.code === 'SELF_SIGNED_NOT_REGISTERED' && refusal.clientId ? (options.publishedSetNote?.(refusal.clientId) ?? '') : '');
    options.onRefusal?.({ ref: refusal.ref, at: new Date(), reason: refusal.code, message, clientId: refusal.clientId, thumbprint: refusal.thumbprint, diagnosis });
    logger.warn(
      {
        event: 'client_auth_refused',
        reason: refusal.code,
        ref: refusal.ref,
        client_id: refusal.clientId,
        x5t: refusal.thumbprint,
        kid: refusal.keyId,
        details: refusal.details,
        ...(diagnosis ? { diagnosis } : {}),
        ...(diagnosis_error ? { diagnosis_error } : {}),
      },
      message,
    );
  }

  /**
   * Called once oidc-provider has answered (after `await next()` in the provider's middleware, before the
   * error description is added). Returns a promise only when a refusal has to be diagnosed and logged,
   * so a successful request costs no extra promise.
   */
  function observe(ctx: ObservedContext): Promise<void> | undefined {
    const error = (ctx.body as { error?: unknown } | undefined)?.error;
    const client = ctx.oidc?.client;
    let refusal = ctx.state.certboundRefusal as Refusal | undefined;
    if (!refusal && error === 'invalid_client' && client?.tokenEndpointAuthMethod === 'self_signed_tls_client_auth') {
      const peer = options.peerCertificate(ctx);
      if (peer?.parsed) {
        refusal = {
          code: 'SELF_SIGNED_NOT_REGISTERED',
          message: `The client certificate (x5t#S256 ${peer.parsed.x5t}) is not one of the certificates registered for ${client.clientId} (self_signed_tls_client_auth).`,
          ref: randomUUID().slice(0, 8),
          clientId: client.clientId,
          thumbprint: peer.parsed.x5t,
        };
        ctx.state.certboundRefusal = refusal;
      }
    }
    if (refusal) {
      if (ctx.state.certboundRefusalLogged) return undefined;
      ctx.state.certboundRefusalLogged = true;
      return logRefusal(ctx, refusal);
    }
    if (!client || error === 'invalid_client') return undefined;
    const matched = ctx.state.certboundMatchedMapping as string | undefined;
    // Self-signed and private_key_jwt clients have no mapping: their certificate is recorded with none.
    const unmapped = client.tokenEndpointAuthMethod === 'self_signed_tls_client_auth' || client.tokenEndpointAuthMethod === 'private_key_jwt';
    if (!matched && !unmapped) return undefined;
    const peer = options.peerCertificate(ctx);
    if (!peer?.parsed) return undefined;
    lastSeen.record({ clientId: client.clientId, mappingId: matched ?? null, x5tS256: peer.parsed.x5t, subject: peer.parsed.subjectRfc4514, notAfter: peer.parsed.notAfter });
    return undefined;
  }

  return {
    observe,
    /** Waits for queued last-seen writes. */
    flush: () => lastSeen.flush(),
  };
}

export type AuthObserver = ReturnType<typeof createAuthObserver>;
