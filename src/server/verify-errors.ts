import type { TLSSocket } from 'node:tls';

/**
 * Clears what OpenSSL left on the thread's error queue while it verified the client certificate of a
 * handshake that has just completed. Call it from the listener's 'secureConnection' event.
 *
 * Why: with `rejectUnauthorized: false`, Node's verify callback accepts every certificate, but the
 * errors OpenSSL met on the way stay queued (a signature that does not verify; an extension it cannot
 * decode, `ossl_x509v3_cache_extensions: invalid certificate`: two SAN or EKU extensions, a SAN that is
 * not GeneralNames). The connection's next TLS read ends with SSL_get_error, which takes any queued
 * error for a fatal one of this read: Node then destroys the socket, and a request still being answered
 * asynchronously (every token request) gets no HTTP answer at all. A plain server that reads the peer
 * certificate synchronously in its request handler does not see it: that read clears the queue in time.
 *
 * Reading the peer certificate clears the queue (Node's GetPeerCert clears OpenSSL's errors on return),
 * and Node emits 'secureConnection' synchronously when the handshake completes, inside the read that
 * completed it and before that read asks SSL_get_error. The certificate itself is read again, with its
 * chain, when a request needs it (mtls.ts); `getPeerCertificate()` without `detailed` leaves that chain
 * intact (`getPeerX509Certificate()` would not).
 *
 * Not covered (by Node's code, not reproduced here): a certificate flight that reaches the server in two
 * reads, the verification in the first; that read fails before the handshake completes, and the client
 * sees a TLS-level refusal ('tlsClientError'; the socket is destroyed, nothing is served).
 */
export function clearCertificateVerifyErrors(socket: TLSSocket): void {
  try {
    socket.getPeerCertificate();
  } catch {
    // A certificate Node cannot describe: the queue is cleared all the same (on return, thrown or not),
    // and the request path reads the certificate again and refuses it with a reason.
  }
}
