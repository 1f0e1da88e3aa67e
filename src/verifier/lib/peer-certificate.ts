import type { X509Certificate } from 'node:crypto';

interface PeerSocket {
  getPeerX509Certificate?: () => X509Certificate | undefined;
  getPeerCertificate?: (detailed?: boolean) => { raw?: unknown } | null;
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
  const session = (req.stream as { session?: { socket?: unknown } } | undefined)?.session;
  const socket = (session?.socket ?? req.socket) as PeerSocket | null | undefined;
  if (!socket) return undefined;
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
