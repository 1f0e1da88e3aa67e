/**
 * What an application error is about, apart from its wording. A use case refuses with a stable `code`,
 * a neutral sentence, and `details` naming the input `member` concerned (the use case's own name for
 * it: `scopes`, `mapping.trustAnchor`, `introspectionClients`) and the values the refusal is about. Each
 * surface words the refusal for its reader from these: the CLI names its flags and commands
 * (src/cli/error-wording.ts), the admin API its request members and routes (src/admin-api/error-wording.ts).
 */
import { CertboundError } from '../errors/index.js';

/** The member a refusal is about and its values; `member` is dotted for a nested input (`mapping.value`). */
export interface ErrorFields {
  member?: string;
  [value: string]: unknown;
}

/** The fields of an application error (empty for an error without details). */
export function errorFields(err: CertboundError): ErrorFields {
  return (err.details ?? {}) as ErrorFields;
}

/**
 * The same error, now about `member`: for a refusal that comes from a lower layer (a certificate or a
 * JWKS that does not parse, a DN in the wrong order), which does not know which input it was given as.
 * An error that already names its member, or is not a certbound error, is returned unchanged.
 *
 * @example
 * try {
 *   canonical = canonicalizeMappingValue(kind, value);
 * } catch (err) {
 *   throw aboutMember(err, 'mapping.value');
 * }
 */
export function aboutMember(err: unknown, member: string): unknown {
  if (!(err instanceof CertboundError) || err.details?.member !== undefined) return err;
  return new CertboundError(err.code, err.message, { status: err.status, expose: err.expose, hint: err.hint, details: { ...err.details, member }, cause: err });
}

/**
 * Runs `fn`, attributing a refusal it throws to `member` (see aboutMember).
 *
 * @example
 * const jwks = await attributed('privateKeyJwtJwks', () => validatePrivateKeyJwtJwks(text));
 */
export async function attributed<T>(member: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw aboutMember(err, member);
  }
}

/** The synchronous form of `attributed`. */
export function attributedSync<T>(member: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw aboutMember(err, member);
  }
}
