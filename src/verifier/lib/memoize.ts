/** Memoizes an async value; a failure is remembered for `retryAfterMs` so a down AS is not hammered. */
export function memoize<T>(load: () => Promise<T>, now: () => number, retryAfterMs: number): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let failedAt = 0;
  return () => {
    if (pending && failedAt && now() - failedAt >= retryAfterMs) pending = undefined;
    if (!pending) {
      failedAt = 0;
      pending = load();
      pending.catch(() => {
        failedAt = now();
      });
    }
    return pending;
  };
}
