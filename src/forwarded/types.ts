/** A client certificate recovered from a proxy header. */
export interface ForwardedCertificate {
  /** DER of the leaf (end-entity) certificate, exactly as the proxy forwarded it: hash this, never a re-encoding. */
  der: Buffer;
  /** DER of the further certificates the proxy forwarded, leaf excluded, in TLS order (issuer of the previous one next). */
  chain: Buffer[];
  /**
   * `true` only where the header format itself states that the proxy validated the chain (AWS ALB verify
   * mode, pinned by choosing that format). Absent means "unknown": fine for a resource server (IC-7),
   * not enough for PKI client authentication at the authorization server.
   */
  verified?: boolean;
}
