/**
 * A client certificate parsed and judged by the leaf policy once per certificate, not per request: the
 * results are kept by x5t#S256 (bounded) and shared by the TLS path (mtls.ts) and every proxy header
 * format (certificate-source.ts), so both paths apply the same rules through the same function. One
 * set of caches per server: the composition creates it and hands it to both paths.
 */
import { CertboundError } from '../errors/index.js';
import { checkLeafPolicy, type LeafPolicyViolation, type ParsedCertificate, parseCertificate, x5tS256 } from '../pki/index.js';
import type { TrustAnchor } from '../store/index.js';

const CACHE_MAX = 10_000;

export type ParsedClientCertificate = { parsed: ParsedCertificate; parseError?: undefined } | { parsed?: undefined; parseError: CertboundError };

export interface ClientCertificates {
  /** Parses a client certificate (cached by thumbprint); a parse failure is returned as a coded error, never thrown. */
  parse(der: Buffer, thumbprint?: string): ParsedClientCertificate;
  /**
   * The leaf rules that do not depend on the trust anchor (all but EKU_MISSING): checked before the chain
   * verdict, so that both paths report the same reason whatever their chain validator says first.
   */
  leafRefusal(parsed: ParsedCertificate): LeafPolicyViolation | undefined;
  /**
   * EKU_MISSING, once the chain is known to end at `anchor`: refused unless that anchor allows a leaf
   * without EKU (`allow_missing_eku`). An unknown anchor (a proxy that vouched for a chain certbound could
   * not rebuild) never waives it.
   */
  missingEkuRefusal(parsed: ParsedCertificate, anchor: TrustAnchor | undefined): LeafPolicyViolation | undefined;
}

export function createClientCertificates(): ClientCertificates {
  /** Parsed certificates by x5t#S256: a client opening many connections or sending many requests is parsed once. */
  const parsedByThumbprint = new Map<string, ParsedCertificate>();
  /** The anchor-independent verdict of each parsed certificate (EKU_MISSING included; the anchor may waive it). */
  const violationsOf = new WeakMap<ParsedCertificate, readonly LeafPolicyViolation[]>();

  function violations(parsed: ParsedCertificate): readonly LeafPolicyViolation[] {
    let found = violationsOf.get(parsed);
    if (!found) {
      found = Object.freeze(checkLeafPolicy(parsed, { allowMissingEku: false }));
      violationsOf.set(parsed, found);
    }
    return found;
  }

  return {
    parse(der, thumbprint = x5tS256(der)) {
      const known = parsedByThumbprint.get(thumbprint);
      if (known) return { parsed: known };
      try {
        const parsed = parseCertificate(der);
        parsedByThumbprint.set(thumbprint, parsed);
        if (parsedByThumbprint.size > CACHE_MAX) parsedByThumbprint.delete(parsedByThumbprint.keys().next().value as string);
        return { parsed };
      } catch (err) {
        return {
          parseError: err instanceof CertboundError ? err : new CertboundError('ERR_CERT_PARSE', 'The client certificate could not be parsed.', { cause: err, status: 400 }),
        };
      }
    },

    leafRefusal: (parsed) => violations(parsed).find((v) => v.code !== 'EKU_MISSING'),

    missingEkuRefusal(parsed, anchor) {
      const missing = violations(parsed).find((v) => v.code === 'EKU_MISSING');
      if (!missing || anchor?.allowMissingEku) return undefined;
      return {
        code: 'EKU_MISSING',
        message: anchor
          ? `${missing.message} Reissue it with clientAuth, or, for a legacy CA that issues no EKU, allow it on the trust anchor "${anchor.name}" (certbound trust add --allow-no-eku).`
          : `${missing.message} Reissue it with clientAuth; a trust anchor's --allow-no-eku applies only when certbound knows the anchor the chain ends at.`,
      };
    },
  };
}
