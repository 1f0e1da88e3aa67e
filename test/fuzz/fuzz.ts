/**
 * Settings shared by the property-based suites in test/fuzz/.
 *
 * Every file draws one seed at start (or takes `FUZZ_SEED`) and prints it, so a failure seen in any run
 * can be replayed exactly: `FUZZ_SEED=<seed> npx vitest run test/fuzz/<file>` (with the same
 * `FUZZ_SCALE`). fast-check also prints the seed and the shrunk counterexample's `path` on a failure.
 *
 * Run counts: in the normal suite each property runs its `base` count, so the whole fuzz set stays within
 * a few seconds. `npm run test:fuzz` sets `FUZZ_SCALE` (a multiplier of every base count) so that the
 * run generates well over 100 000 cases; each file prints how many it ran.
 */
import type fc from 'fast-check';
import { afterAll } from 'vitest';

function readInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

export interface Fuzz {
  seed: number;
  /** fast-check parameters for one property: `base` runs, times `FUZZ_SCALE`. */
  params<T>(base: number): fc.Parameters<T>;
}

/**
 * The seed and run counts of one test file: `FUZZ_SEED` or a fresh seed, printed before any property
 * runs (a crash or a timeout still leaves it in the log), and the number of cases run, printed at the end.
 */
export function fuzzFile(file: string): Fuzz {
  const seed = readInteger('FUZZ_SEED') ?? Math.floor(Math.random() * 0x7fffffff);
  const scale = readInteger('FUZZ_SCALE') ?? 1;
  console.log(`[fuzz] ${file}: FUZZ_SEED=${seed} FUZZ_SCALE=${scale}`);
  let cases = 0;
  afterAll(() => {
    console.log(`[fuzz] ${file}: ${cases} generated cases (FUZZ_SEED=${seed})`);
  });
  return {
    seed,
    params<T>(base: number): fc.Parameters<T> {
      const numRuns = Math.max(1, base * scale);
      cases += numRuns;
      return { seed, numRuns };
    },
  };
}
