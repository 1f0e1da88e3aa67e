import type { X509Certificate } from 'node:crypto';
import { x5tS256 } from '../../pki/thumbprint.js';

interface PeerSocket {
  getPeerX509Certificate?: () => X509Certificate | undefined;
  getPeerCertificate?: (detailed?: boolean) => { raw?: unknown } | null;
  getProtocol?: () => string | null;
}

function peerSocketOf(req: { socket: unknown; stream?: unknown }): PeerSocket | undefined {
  const session = (req.stream as { session?: { socket?: unknown } } | undefined)?.session;
  return ((session?.socket ?? req.socket) as PeerSocket | null | undefined) ?? undefined;
}

/**
 * DER of the client certificate presented in this connection's TLS handshake, or undefined (plain
 * TCP, or no certificate sent). For http2 compat requests the session's TLS socket is used.
 * Never throws: a missing certificate is a 401 decision for the caller, not a crash.
 *
 * @example
 * const der = peerCertificateDer(req); // Buffer | undefined
 * if (der) console.log(x5tS256(der));
 */
export function peerCertificateDer(req: { socket: unknown; stream?: unknown }): Buffer | undefined {
  const socket = peerSocketOf(req);
  if (!socket) return undefined;
  return derOf(socket);
}

function derOf(socket: PeerSocket): Buffer | undefined {
  try {
    if (typeof socket.getPeerX509Certificate === 'function') {
      const raw = socket.getPeerX509Certificate()?.raw;
      return Buffer.isBuffer(raw) && raw.length > 0 ? raw : undefined;
    }
    if (typeof socket.getPeerCertificate === 'function') {
      const raw = socket.getPeerCertificate(false)?.raw;
      return Buffer.isBuffer(raw) && raw.length > 0 ? raw : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export interface PeerCertificate {
  der: Buffer;
  /** x5t#S256 of `der`. */
  x5t: string;
}

/** TLS 1.3 connections whose certificate and thumbprint were read (see peerCertificateOf). */
const tls13Peers = new WeakMap<object, PeerCertificate>();

/**
 * The client certificate of this connection's handshake with its x5t#S256. TLS 1.3 has no
 * renegotiation, so a TLS 1.3 connection's client certificate never changes: it is read and hashed
 * once per connection (keep-alive requests reuse it). Under TLS 1.2, where a renegotiation could
 * present another certificate, it is read on every request.
 */
export function peerCertificateOf(req: { socket: unknown; stream?: unknown }): PeerCertificate | undefined {
  const socket = peerSocketOf(req);
  if (!socket) return undefined;
  const known = tls13Peers.get(socket);
  if (known) return known;
  const der = derOf(socket);
  if (!der) return undefined;
  const peer = { der, x5t: x5tS256(der) };
  let protocol: string | null | undefined;
  try {
    protocol = typeof socket.getProtocol === 'function' ? socket.getProtocol() : undefined;
  } catch {
    protocol = undefined;
  }
  if (protocol === 'TLSv1.3') tls13Peers.set(socket, peer);
  return peer;
}
