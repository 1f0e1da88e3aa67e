/**
 * The CLI's one error printer: every failure a command reports reaches standard error in the same shape,
 * `error: <message>`, indented detail lines, then `  → <what to do>` lines. Kept apart from util.ts so that
 * `certbound serve` (serve.ts, bundled on its own) prints its errors the same way without loading the
 * command table.
 */
import { CertboundError } from '../errors/index.js';

export interface CliErrorReport {
  message: string;
  /** Facts under the message (e.g. the server's OAuth error and ref), one line each. */
  details?: readonly string[];
  /** What to do next, one line each. */
  hints?: readonly string[];
}

/** The text of a report, as it is written to standard error. */
export function formatCliError({ message, details = [], hints = [] }: CliErrorReport): string {
  return [`error: ${message}`, ...details.map((d) => `  ${d}`), ...hints.map((h) => `  → ${h}`)].join('\n');
}

/**
 * Writes any error a command threw and returns the exit status: 2 for bad input (a coded error with a
 * 4xx status), 1 for anything else, whose stack is printed since it is a bug or an environment failure.
 */
export function reportCliError(
  err: unknown,
  io: { err(text: string): void },
  words: (err: CertboundError) => { message: string; hint: string | undefined } = (e) => ({ message: e.message, hint: e.hint }),
): number {
  if (err instanceof CertboundError) {
    const { message, hint } = words(err);
    io.err(formatCliError({ message, hints: hint ? [hint] : [] }));
    return err.status >= 400 && err.status < 500 ? 2 : 1;
  }
  io.err(formatCliError({ message: (err as Error)?.stack ?? String(err) }));
  return 1;
}
