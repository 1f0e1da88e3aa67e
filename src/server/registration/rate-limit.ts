/**
 * Registration requests per initial access token: at most `limit` a minute (a fixed window), so a
 * leaked token cannot be used to flood the store or the jwks_uri fetcher. In memory, per server.
 */
export const REGISTRATIONS_PER_MINUTE = 30;
const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

export interface RateLimiter {
  /** Counts a request under `key`; the seconds to wait when it is over the limit, else undefined. */
  take(key: string, now?: number): number | undefined;
}

export function createRateLimiter(limit = REGISTRATIONS_PER_MINUTE): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key, now = Date.now()) {
      let w = windows.get(key);
      if (!w || now - w.start >= WINDOW_MS) {
        w = { start: now, count: 0 };
        windows.delete(key);
        windows.set(key, w);
        if (windows.size > MAX_TRACKED) windows.delete(windows.keys().next().value as string);
      }
      w.count++;
      return w.count > limit ? Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000)) : undefined;
    },
  };
}
