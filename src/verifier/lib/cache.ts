/** What the verified-token cache holds, and which verified JWTs it admits. */
import type { JWTPayload } from 'jose';
import { type Binding, bindingOf } from './binding.js';
import type { Refusals } from './refusals.js';

/** A verified token's claims, as the JWT check or introspection gives them. */
export interface TokenFacts {
  claims: JWTPayload & Record<string, unknown>;
  /** `exp` in seconds, when the token has one. */
  exp: number | undefined;
  /** JWTs: the generation of the issuer's key set the signature was checked under (see IssuerKeys). */
  keyGeneration?: number;
}

/** A verified token and what follows from its claims alone, worked out once and reused while it is cached. */
export interface CachedToken extends TokenFacts {
  binding: Binding;
  /** The granted scopes (frozen: shared by every request with this token). */
  scopes: readonly string[];
}

function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope !== 'string') return [];
  const scopes = claims.scope.split(' ');
  return scopes.includes('') ? scopes.filter(Boolean) : scopes;
}

export function cacheable(facts: TokenFacts, requireBoundTokens: boolean, refusals: Refusals): CachedToken {
  return {
    claims: facts.claims,
    exp: facts.exp,
    keyGeneration: facts.keyGeneration,
    binding: bindingOf(facts.claims, requireBoundTokens, refusals),
    scopes: Object.freeze(scopesOf(facts.claims)),
  };
}

/**
 * The cache's doorkeeper: marks of JWTs verified once, in two generations of up to `generationSize`
 * marks each, so the marks of the last 2–4 × maxEntries tokens are remembered.
 */
export class Doorkeeper {
  readonly #maxEntries: number;
  readonly #generationSize: number;
  #marks = new Set<string>();
  #olderMarks = new Set<string>();

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
    this.#generationSize = Math.max(8, maxEntries * 2);
  }

  /**
   * Whether a just-verified JWT goes into the cache: on its second verification. A client reuses its
   * token, so it is cached after one extra signature check; tokens seen only once (a flood of them, or
   * unique tokens) never push reused ones out, nor make the cache churn memory. The mark is the last
   * 12 characters of the token (its signature): small, and a collision only admits a token early, which
   * is harmless, since only verified tokens are cached.
   *
   * When the young generation is full it becomes the old one and the oldest marks are dropped at once.
   * Dropping the oldest mark one at a time from a single Set was the costliest step of verifying an
   * unseen token: a Set iterated from its start skips every entry deleted there since its last rehash.
   */
  admit(token: string): boolean {
    if (this.#maxEntries <= 0) return false;
    // 12 characters, not more: V8 copies a substring shorter than 13 characters, while a longer one
    // points into the whole token and would keep it alive (4000 marks kept 3 MB of tokens that way).
    const mark = token.slice(-12);
    if (this.#marks.delete(mark) || this.#olderMarks.delete(mark)) return true;
    this.#marks.add(mark);
    if (this.#marks.size >= this.#generationSize) {
      this.#olderMarks = this.#marks;
      this.#marks = new Set();
    }
    return false;
  }
}
