/**
 * The standing hostile corpus: what every case is (an id, the finding or checklist IDs it guards, the
 * verdict that is due) and how a run is judged. The one rule for every surface: no false accept (no
 * token, no 2xx, no verifier accept where a refusal is due; an accept only where due) and never a 5xx.
 */
import { expect } from 'vitest';

/** An issue-15 finding whose fix is not merged on every branch yet (see test/hostile/README.md). */
export type Finding = `H15-${number}`;

export interface HostileCase {
  /** Stable id, unique across the corpus (e.g. `CERT-17`); it leads the test title. */
  id: string;
  /** Checklist IDs (/work/shared/spec/rfc8705-checklist.md) or findings (`H15-4`) the case guards. */
  guards: readonly string[];
  /** Set when the required behaviour depends on the fix of this finding. */
  finding?: Finding;
  title: string;
  /** The verdict that is due. */
  expect: 'accept' | 'refuse';
}

/** What a case observed: the HTTP status and whether the surface accepted (token issued, 2xx, request verified). */
export interface Outcome {
  /** 0: the connection ended without an HTTP answer. */
  status: number;
  accepted: boolean;
  /** Shown in a failure message: what came back. */
  detail?: string;
}

/** `CERT-17 [X-11 H15-4] two SAN extensions` (the id first, so one case can be run with `-t`). */
export function titleOf(c: HostileCase): string {
  return `${c.id} [${c.guards.join(' ')}] ${c.title}`;
}

/** Rows for `it.each(rows)('%s', (title, c) => …)`: the full title (with the id) and the case. */
export function rows<T extends HostileCase>(cases: readonly T[]): [string, T][] {
  return cases.map((c) => [titleOf(c), c]);
}

export interface Tally {
  /** Records the outcome, then asserts the corpus rule for the case. */
  judge(c: HostileCase, outcome: Outcome): void;
  /** One line: cases run, false accepts, missed accepts, 5xx. */
  summary(): string;
}

export function createTally(surface: string): Tally {
  let run = 0;
  let falseAccepts = 0;
  let missedAccepts = 0;
  let serverErrors = 0;
  let unanswered = 0;
  const failed: string[] = [];
  return {
    judge(c, outcome) {
      run++;
      const wrongAccept = c.expect === 'refuse' && outcome.accepted;
      const missed = c.expect === 'accept' && !outcome.accepted;
      if (wrongAccept) falseAccepts++;
      if (missed) missedAccepts++;
      if (outcome.status >= 500) serverErrors++;
      if (outcome.status === 0) unanswered++;
      if (wrongAccept || missed || outcome.status >= 500 || outcome.status === 0) failed.push(c.finding ? `${c.id} (${c.finding})` : c.id);
      const what = `${c.id}: status ${outcome.status}${outcome.detail ? `, ${outcome.detail}` : ''}`;
      expect(outcome.status, `${what}: a 5xx`).toBeLessThan(500);
      // A refusal is an answer that says what is wrong; a connection dropped after the request is not one.
      expect(outcome.status, `${what}: no HTTP answer`).toBeGreaterThan(0);
      expect(outcome.accepted, c.expect === 'refuse' ? `${what}: accepted where a refusal is due` : `${what}: refused where an accept is due`).toBe(c.expect === 'accept');
    },
    summary() {
      const tail = failed.length ? `; failing: ${failed.join(', ')}` : '';
      return `hostile corpus [${surface}]: ${run} cases run, ${falseAccepts} false accepts, ${missedAccepts} missed accepts, ${serverErrors} 5xx, ${unanswered} unanswered${tail}`;
    },
  };
}

/** Checks a case table: ids unique and well-formed, every case guards at least one ID. */
export function checkTable(cases: readonly HostileCase[]): void {
  const seen = new Set<string>();
  for (const c of cases) {
    if (!/^[A-Z]+(?:-[A-Z]+)*-\d{2,3}$/.test(c.id)) throw new Error(`case id ${c.id} is not of the form SURFACE-NN`);
    if (seen.has(c.id)) throw new Error(`case id ${c.id} is used twice`);
    seen.add(c.id);
    if (!c.guards.length) throw new Error(`case ${c.id} guards nothing`);
  }
}

/** A short text of a response body for failure messages (never a whole body, never a token). */
export function brief(body: unknown, text?: string): string {
  const b = body as Record<string, unknown> | undefined;
  if (b && typeof b.access_token === 'string') return 'a token was issued';
  const s = b && (b.error || b.code) ? JSON.stringify({ error: b.error ?? b.code, description: b.error_description ?? b.message }) : (text ?? JSON.stringify(body));
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
