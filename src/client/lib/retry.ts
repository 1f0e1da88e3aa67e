import type { Response } from 'undici';
import { CertboundClientError } from '../errors.js';

/** Bounded, jittered exponential backoff for network errors and 5xx answers. */
export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts at most). Default 3. */
  retries?: number;
  /** Upper bound of the first delay; doubled per retry ("full jitter": a random delay below the bound). Default 200 ms. */
  baseDelayMs?: number;
  /** No delay exceeds this, `Retry-After` included. Default 5000 ms. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = { retries: 3, baseDelayMs: 200, maxDelayMs: 5000 };

/** The global timer, so that tests with fake timers control the backoff too. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** The outcome of the last attempt once retries are used up (or a non-retryable answer came). */
export type Attempted = { response: Response; attempts: number } | { networkError: unknown; attempts: number };

function delayBefore(retry: number, policy: Required<RetryPolicy>, retryAfter: string | null): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = Math.random() * bound;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  return seconds === undefined ? jittered : Math.min(policy.maxDelayMs, Math.max(jittered, seconds * 1000));
}

/**
 * Sends with `send` until it gets an answer below 500, or retries run out. A 4xx is returned at once:
 * repeating a refused request (`invalid_client`, `invalid_scope`) only adds load and log lines. Aborts
 * by the caller's signal, and the client's own errors raised while preparing a request, are not retried.
 */
export async function sendWithRetries(send: () => Promise<Response>, policy: Required<RetryPolicy>, signal?: AbortSignal): Promise<Attempted> {
  for (let attempt = 0; ; attempt++) {
    let outcome: Attempted;
    try {
      const response = await send();
      outcome = { response, attempts: attempt + 1 };
      if (response.status < 500) return outcome;
    } catch (err) {
      // Our own failures before sending (an unusable signing key) are not the network's.
      if (signal?.aborted || err instanceof CertboundClientError) throw err;
      outcome = { networkError: err, attempts: attempt + 1 };
    }
    if (attempt >= policy.retries) return outcome;
    const retryAfter = 'response' in outcome ? outcome.response.headers.get('retry-after') : null;
    if ('response' in outcome) await outcome.response.body?.cancel();
    await delay(delayBefore(attempt, policy, retryAfter), signal);
  }
}

/** A short description of a network error for a message: the innermost cause's code and text. */
export function describeNetworkError(err: unknown): string {
  let e = err as { message?: string; code?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  const code = e?.code ? `${e.code}: ` : '';
  return `${code}${e?.message ?? String(err)}`;
}
