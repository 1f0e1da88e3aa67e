/**
 * Failures the server cannot help (the database down or frozen, an internal error) become OAuth JSON
 * errors with a ref, and the log gets one JSON line per failure kind and interval rather than one per
 * request: during an outage every request fails the same way, and thousands of stack traces would hide
 * the one that matters (docs/reliability.md).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CertboundError, oauthErrorBody, toOAuthBody } from '../errors/index.js';
import { isDatabaseUnavailable } from '../store/unavailable.js';

export interface FailureLog {
  /**
   * Logs a failure of kind `event`: the first one of an interval in full (with `err`), later ones of the
   * same kind counted and reported as one summary line at the end of the interval. Returns the ref of
   * the line that reports this failure (the full one, which the summary repeats).
   */
  record(event: string, err: unknown, message: string, fields?: Record<string, unknown>): string;
  /** Writes the pending summaries and stops the timers. */
  close(): void;
}

export function createFailureLog(logger: Logger, { intervalMs = 10_000 }: { intervalMs?: number } = {}): FailureLog {
  const windows = new Map<string, { ref: string; count: number; lastError: string; timer: NodeJS.Timeout }>();
  const summarize = (event: string) => {
    const w = windows.get(event);
    if (!w) return;
    if (w.count === 0) {
      // A quiet interval ends the outage: the next failure is logged in full again.
      windows.delete(event);
      return;
    }
    logger.error(
      { event, summary: true, ref: w.ref, count: w.count, interval_ms: intervalMs, last_error: w.lastError },
      `${w.count} more failure${w.count === 1 ? '' : 's'} of this kind in the last ${intervalMs / 1000} s (first one logged in full with ref ${w.ref})`,
    );
    w.count = 0;
    w.timer.refresh();
  };
  return {
    record(event, err, message, fields) {
      const known = windows.get(event);
      if (known) {
        known.count++;
        known.lastError = (err as Error)?.message ?? String(err);
        return known.ref;
      }
      const ref = randomUUID().slice(0, 8);
      const timer = setTimeout(() => summarize(event), intervalMs);
      timer.unref();
      windows.set(event, { ref, count: 0, lastError: '', timer });
      logger.error({ event, ref, ...fields, err }, message);
      return ref;
    },
    close() {
      for (const [event, w] of [...windows]) {
        clearTimeout(w.timer);
        summarize(event);
        windows.delete(event);
      }
    },
  };
}

/** The refusal of a request beyond CERTBOUND_MAX_PENDING_REQUESTS. */
export class TooManyPendingRequestsError extends CertboundError {
  constructor(limit: number) {
    super('ERR_TOO_MANY_PENDING_REQUESTS', `${limit} token requests are already waiting (CERTBOUND_MAX_PENDING_REQUESTS); this one was refused without waiting.`, {
      status: 503,
      expose: false,
    });
  }
}

interface ResponseContext {
  status: number;
  body: unknown;
  set(field: string, value: string): void;
  path: string;
  method: string;
}

/** The answer to a failure: its status, the Retry-After seconds when it has one, and the OAuth body. */
export interface FailureAnswer {
  status: number;
  retryAfterS?: number;
  body: { error: string; error_description?: string };
}

/**
 * 503 temporarily_unavailable with Retry-After and the ref of its log line, when the database is
 * unavailable or too many requests wait for it; undefined for any other failure.
 */
export function unavailableAnswer(err: unknown, failures: FailureLog, retryAfterS: number, fields: Record<string, unknown>): FailureAnswer | undefined {
  const busy = err instanceof TooManyPendingRequestsError;
  if (!busy && !isDatabaseUnavailable(err)) return undefined;
  const ref = busy
    ? failures.record('request_refused_busy', err, 'too many requests waiting for the database; refusing more at once', fields)
    : failures.record('database_unavailable', err, 'the database is unavailable; requests are refused with 503 until it answers', fields);
  return {
    status: 503,
    retryAfterS,
    body: oauthErrorBody(
      'temporarily_unavailable',
      `${busy ? 'the authorization server is busy' : 'the authorization server cannot reach its database'}; retry in ${retryAfterS} s (ref ${ref})`,
    ),
  };
}

/**
 * Answers a request that failed outside oidc-provider's own error handling (or with its server_error):
 * 503 temporarily_unavailable with Retry-After when the database is unavailable or too many requests
 * wait for it ({@link unavailableAnswer}), 500 server_error otherwise; both with the ref of the log line
 * that explains them.
 */
export function respondWithFailure(ctx: ResponseContext, err: unknown, failures: FailureLog, retryAfterS: number): void {
  const fields = { method: ctx.method, path: ctx.path };
  ctx.set('cache-control', 'no-store');
  const unavailable = unavailableAnswer(err, failures, retryAfterS, fields);
  if (unavailable) {
    ctx.status = unavailable.status;
    ctx.set('retry-after', String(unavailable.retryAfterS));
    ctx.body = unavailable.body;
    return;
  }
  const { status, body } = toOAuthBody(err);
  ctx.status = status;
  if (status < 500) {
    ctx.body = body;
    return;
  }
  const ref = failures.record('request_failed', err, 'a request failed with an internal error', fields);
  ctx.body = oauthErrorBody('server_error', `an internal error occurred (ref ${ref}); the authorization server's log has the details`);
}
