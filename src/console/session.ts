/**
 * Console sessions: a random id in an `HttpOnly; Secure; SameSite=Strict` cookie, held in this process's
 * memory with the client and the `x5t#S256` of the certificate that signed in. A session is only good on a
 * connection that presents that same certificate, so a stolen cookie is useless without the private key.
 * Writes also need the session's anti-CSRF token in a header, which a cross-site form cannot set.
 *
 * Memory, not the database: a session is as short-lived as an admin token, and signing in again costs
 * the administrator nothing (the browser presents the certificate). Behind several replicas, each
 * replica has its own sessions (docs/console.md).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Cookie name; `__Secure-` makes browsers refuse it from a non-TLS origin. */
export const SESSION_COOKIE = '__Secure-certbound-console';
/** The header a write carries the anti-CSRF token in. */
export const CSRF_HEADER = 'x-certbound-csrf';

export interface ConsoleSession {
  id: string;
  clientId: string;
  /** `x5t#S256` of the certificate that signed in; every request must present it. */
  thumbprint: string;
  /** The admin scopes the client held at sign-in (checked again on every request). */
  scopes: string[];
  csrf: string;
  createdAt: number;
  lastUsedAt: number;
}

export interface SessionStoreOptions {
  /** Absolute lifetime. Default 8 hours. */
  ttlMs?: number;
  /** Ends a session unused for this long. Default 30 minutes. */
  idleMs?: number;
  /** Most sessions held at once; the oldest goes first. Default 1000. */
  max?: number;
  now?: () => number;
}

export type SessionLookup = { session: ConsoleSession } | { refused: 'unknown' | 'expired' | 'idle' };

export function createSessionStore(options: SessionStoreOptions = {}) {
  const ttlMs = options.ttlMs ?? 8 * 3_600_000;
  const idleMs = options.idleMs ?? 30 * 60_000;
  const max = options.max ?? 1000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, ConsoleSession>();

  return {
    ttlMs,
    create(clientId: string, thumbprint: string, scopes: string[]): ConsoleSession {
      while (sessions.size >= max) sessions.delete(sessions.keys().next().value!);
      const at = now();
      const session: ConsoleSession = {
        id: randomBytes(32).toString('base64url'),
        clientId,
        thumbprint,
        scopes,
        csrf: randomBytes(32).toString('base64url'),
        createdAt: at,
        lastUsedAt: at,
      };
      sessions.set(session.id, session);
      return session;
    },
    find(id: string | undefined): SessionLookup {
      const session = id === undefined ? undefined : sessions.get(id);
      if (!session) return { refused: 'unknown' };
      const at = now();
      if (at - session.createdAt > ttlMs) {
        sessions.delete(session.id);
        return { refused: 'expired' };
      }
      if (at - session.lastUsedAt > idleMs) {
        sessions.delete(session.id);
        return { refused: 'idle' };
      }
      session.lastUsedAt = at;
      return { session };
    },
    end(id: string): void {
      sessions.delete(id);
    },
    get size() {
      return sessions.size;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;

/** The session id of a Cookie header, if any. */
export function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Path `/admin`: the console's pages and the admin API it calls, nothing else of the server. */
export function sessionCookie(session: ConsoleSession, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${session.id}; Path=/admin; Max-Age=${maxAgeS}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

export function csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
