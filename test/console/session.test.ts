/** Console sessions: lifetime, idle end, sign-out, the cookie's attributes and the anti-CSRF comparison. */
import { describe, expect, it } from 'vitest';
import { clearedSessionCookie, createSessionStore, csrfMatches, SESSION_COOKIE, sessionCookie, sessionIdOf } from '../../src/console/session.js';

describe('console sessions', () => {
  it('ends a session at its lifetime, after idling, or when signed out; an unknown id is refused', () => {
    let now = 1_000_000;
    const store = createSessionStore({ ttlMs: 60_000, idleMs: 20_000, now: () => now });
    const a = store.create('ops', 'x5t-a', ['certbound:admin']);
    expect(store.find(a.id)).toEqual({ session: a });
    now += 15_000;
    expect('session' in store.find(a.id)).toBe(true);
    now += 15_000;
    expect('session' in store.find(a.id)).toBe(true);
    now += 25_000;
    expect(store.find(a.id)).toEqual({ refused: 'idle' });
    const b = store.create('ops', 'x5t-b', ['certbound:admin']);
    for (let i = 0; i < 5; i++) {
      now += 10_000;
      expect('session' in store.find(b.id)).toBe(true);
    }
    now += 15_000;
    expect(store.find(b.id)).toEqual({ refused: 'expired' });
    const c = store.create('ops', 'x5t-c', []);
    store.end(c.id);
    expect(store.find(c.id)).toEqual({ refused: 'unknown' });
    expect(store.find(undefined)).toEqual({ refused: 'unknown' });
  });

  it('holds at most `max` sessions, dropping the oldest', () => {
    const store = createSessionStore({ max: 2 });
    const [a, b, c] = [store.create('a', 't', []), store.create('b', 't', []), store.create('c', 't', [])];
    expect(store.find(a.id)).toEqual({ refused: 'unknown' });
    expect('session' in store.find(b.id) && 'session' in store.find(c.id)).toBe(true);
  });

  it('sets an HttpOnly, Secure, SameSite=Strict cookie on /admin, and reads it back among others', () => {
    const s = createSessionStore().create('ops', 't', []);
    expect(sessionCookie(s, 3600)).toBe(`${SESSION_COOKIE}=${s.id}; Path=/admin; Max-Age=3600; HttpOnly; Secure; SameSite=Strict`);
    expect(clearedSessionCookie()).toContain('Max-Age=0');
    expect(sessionIdOf(`a=1; ${SESSION_COOKIE}=${s.id}; b=2`)).toBe(s.id);
    expect(sessionIdOf('a=1')).toBeUndefined();
    expect(sessionIdOf(undefined)).toBeUndefined();
  });

  it('accepts only the exact anti-CSRF token of the session', () => {
    const s = createSessionStore().create('ops', 't', []);
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(csrfMatches(s, '')).toBe(false);
    expect(csrfMatches(s, `${s.csrf}x`)).toBe(false);
    expect(
      csrfMatches(
        s,
        s.csrf.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')),
      ),
    ).toBe(false);
  });
});
