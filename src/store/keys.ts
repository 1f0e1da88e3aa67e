/**
 * Keys that come from outside (a token request's client_id or token, an admin API path id, a CLI
 * argument) and are looked up in SQL.
 *
 * PostgreSQL text cannot hold U+0000: the driver refuses the whole statement, which surfaced as a 500
 * where SQLite answered "not found". No stored key contains the character on either database (every
 * registration refuses control characters), so the lookups answer "unknown" for such a key without a
 * query, on SQLite and PostgreSQL alike. Other control characters can be bound and simply match nothing.
 */

/**
 * Whether `key` could equal a stored key; false for text holding U+0000.
 *
 * @example
 * if (!isStorableKey(clientId)) return undefined; // an unknown client, never a driver error
 */
export function isStorableKey(key: string): boolean {
  return !key.includes('\u0000');
}
