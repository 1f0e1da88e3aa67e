/**
 * The keys of a self_signed_tls_client_auth or private_key_jwt client, as an administrator registers
 * them: a JWKS given in full, or a jwks_uri where the client publishes it (fetched once to check it;
 * the server fetches it again on use). Checked by the rules of the client's method.
 */
import { readFileSync } from 'node:fs';
import type { AuthMethod } from '../store/index.js';
import { attributed } from './error-fields.js';
import { checkJwksUri } from './input-checks.js';
import { validatePrivateKeyJwtJwks } from '../jwks/private-key-jwt.js';
import { type Jwks, validateSelfSignedJwks } from '../jwks/self-signed.js';

export interface ClientKeyOptions {
  /** PEM file of extra CA certificates trusted when fetching a client's jwks_uri (CERTBOUND_OUTBOUND_CA_FILE). */
  outboundCaFile?: string | undefined;
  /** Non-public address ranges a jwks_uri may be fetched from (CERTBOUND_JWKS_URI_ALLOWED_RANGES); default none. */
  jwksUriAllowedRanges?: readonly string[] | undefined;
  /** Told a failed jwks_uri fetch with its full error, for the server log (the caller gets a short reason). */
  onJwksUriFailure?: ((failure: { uri: string; reason: string; error: unknown }) => void) | undefined;
  /**
   * Sets the caller fetched and checked a moment ago, by normalized jwks_uri: not fetched again (a
   * registration proves the presented certificate against the very set it fetched, once).
   */
  alreadyFetched?: ReadonlyMap<string, Jwks> | undefined;
}

/** What a client registers its keys as: exactly one of the two, each named by its input member. */
export interface GivenKeys {
  jwks?: { text: string; member: string } | undefined;
  jwksUri?: { url: string; member: string } | undefined;
}

export interface RegisteredKeys {
  jwks: Jwks | null;
  jwksUri: string | null;
}

/**
 * @example
 * const keys = createClientKeyChecks({ outboundCaFile });
 * await keys.keysOf('private_key_jwt', { jwks: { text, member: 'privateKeyJwtJwks' } });
 */
export function createClientKeyChecks({ outboundCaFile, jwksUriAllowedRanges, onJwksUriFailure, alreadyFetched }: ClientKeyOptions) {
  /**
   * SS-4: a jwks_uri must be a plain https URL that serves a usable set now. The fetcher (undici) is
   * imported here, not at the top, so that a server that loads the admin service for its start-up
   * checks does not hold it (docs/performance.md, memory). Returns the normalized URL and the set.
   */
  async function publishedSet(value: string, kind: 'certificates' | 'keys', member: string): Promise<{ jwksUri: string; jwks: Jwks }> {
    const jwksUri = checkJwksUri(value, member);
    const fetched = alreadyFetched?.get(jwksUri);
    if (fetched) return { jwksUri, jwks: fetched };
    const { fetchJwksUriOnce } = await import('../outbound/jwks-uri-cache.js');
    const ca = outboundCaFile ? readFileSync(outboundCaFile, 'utf8') : undefined;
    const jwks = await attributed(member, () =>
      fetchJwksUriOnce(jwksUri, {
        ca,
        kind,
        allowedRanges: jwksUriAllowedRanges,
        onFailure: onJwksUriFailure,
        validate: kind === 'keys' ? validatePrivateKeyJwtJwks : validateSelfSignedJwks,
      }),
    );
    return { jwksUri, jwks };
  }

  return {
    publishedSet,

    /** The checked keys of a client of `method` (self-signed or private_key_jwt), from a JWKS or a jwks_uri. */
    async keysOf(method: AuthMethod, given: GivenKeys): Promise<RegisteredKeys> {
      const keys = method === 'private_key_jwt';
      if (given.jwksUri !== undefined) return { jwks: null, jwksUri: (await publishedSet(given.jwksUri.url, keys ? 'keys' : 'certificates', given.jwksUri.member)).jwksUri };
      const { text, member } = given.jwks!;
      return { jwks: await attributed(member, () => (keys ? validatePrivateKeyJwtJwks(text) : validateSelfSignedJwks(text))), jwksUri: null };
    },
  };
}

export type ClientKeyChecks = ReturnType<typeof createClientKeyChecks>;
