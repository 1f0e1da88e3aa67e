import { createHash } from 'node:crypto';

/** Tokens up to this length are their own identity; longer ones are identified by their SHA-256. */
const MAX_IDENTITY_LENGTH = 4096;
/** Characters at the end of the identity that make the map key (for a JWT: the end of its signature). */
const KEY_LENGTH = 32;

interface Entry<V> {
  identity: string;
  value: V;
  until: number;
  /** Set by a hit; an entry with it set is passed over once by eviction (second chance). */
  used: boolean;
}

/**
 * The verified-token cache (and the introspection cache of inactive tokens): bounded by `maxEntries`,
 * with a deadline per entry.
 *
 * Every request brings its token as a new string, and a Map lookup by the whole token would hash all
 * of its characters (a JWT access token is 600–1000 of them) on every request. The map is therefore
 * keyed by the token's last 32 characters (a JWT's signature), and an entry answers only when its
 * stored identity (the token itself, or the SHA-256 of a token longer than 4096 characters) is equal
 * to the request's, so two tokens that end alike never share a result: the later one is simply a miss.
 *
 * Eviction is "second chance" (CLOCK), close to least-recently-used without moving an entry on every
 * hit: a hit sets `used`; when the cache is full, the oldest entry without `used` goes, and the ones
 * passed over lose the flag and move to the young end.
 */
export class TokenCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for exactly this token, unless its deadline passed (the entry is then dropped). */
  get(token: string, now: number): V | undefined {
    if (this.#max <= 0) return undefined;
    const identity = identityOf(token);
    const key = identity.slice(-KEY_LENGTH);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.identity !== identity) return undefined;
    if (now >= entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry.value;
  }

  set(token: string, value: V, until: number): void {
    if (this.#max <= 0) return;
    const identity = identityOf(token);
    const key = identity.slice(-KEY_LENGTH);
    // Room is made before the new entry goes in, so that it is never the one evicted.
    if (!this.#entries.delete(key)) while (this.#entries.size >= this.#max) this.#evictOne();
    this.#entries.set(key, { identity, value, until, used: false });
  }

  delete(token: string): void {
    const identity = identityOf(token);
    const key = identity.slice(-KEY_LENGTH);
    if (this.#entries.get(key)?.identity === identity) this.#entries.delete(key);
  }

  #evictOne(): void {
    // Terminates: each entry passed over loses its flag, so within one round some entry has none.
    for (const [key, entry] of this.#entries) {
      this.#entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      this.#entries.set(key, entry);
    }
  }
}

function identityOf(token: string): string {
  return token.length <= MAX_IDENTITY_LENGTH ? token : createHash('sha256').update(token).digest('base64url');
}
