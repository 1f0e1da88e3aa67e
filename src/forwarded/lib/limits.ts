/** Size limits applied by every parser. */
export interface ForwardedLimits {
  /** Largest DER certificate accepted, in bytes. Default 16 KiB. */
  maxCertificateBytes: number;
  /** Most certificates in one header (leaf included). Default 10. */
  maxChainLength: number;
  /** Longest header value accepted, in characters (all occurrences of a list header together). Default 128 KiB. */
  maxHeaderLength: number;
}

export const DEFAULT_LIMITS: Readonly<ForwardedLimits> = Object.freeze({
  maxCertificateBytes: 16 * 1024,
  maxChainLength: 10,
  maxHeaderLength: 128 * 1024,
});

export function resolveLimits(limits?: Partial<ForwardedLimits>): ForwardedLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}
