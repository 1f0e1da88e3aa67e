/**
 * The benchmark harness's pure helpers (bench/lib): medians, percentiles, round summaries, the token
 * schedule, and the output contract of bench/results/*.json. Speed itself is never tested here.
 */
import { describe, expect, it } from 'vitest';
import { meets, targetOf } from '../../bench/lib/report.js';
import { leastSquaresSlope, median, percentile, percentileSorted, ratio, SCENARIO_PREFIXES, summarizeRounds, validateOutput } from '../../bench/lib/stats.js';
import { nextStart, tokenIndex } from '../../bench/lib/tokens.js';

const validRow = { scenario: 'issuance-keepalive-sqlite', certbound: 2600, baseline: 2500, unit: 'req/s', ratio: 1.04, p50_ms: 5.1, p99_ms: 12.3, peak_rss_mb: 140.2 };

describe('median and percentiles', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(TypeError);
  });

  it('uses nearest rank, so a percentile is always a measured value', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7, 3], 99)).toBe(7);
    expect(percentileSorted(new Float64Array(0), 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('divides certbound by the baseline', () => {
    expect(ratio(300, 200)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
  });
});

describe('summarizeRounds', () => {
  it('reports the median of each measure over the rounds, and the sums of requests and errors', () => {
    const s = summarizeRounds([
      { rate: 100, p50Ms: 5, p99Ms: 20, errors: 0, requests: 100, cpuMsPerRequest: 1.2 },
      { rate: 300, p50Ms: 1, p99Ms: 9, errors: 1, requests: 301, cpuMsPerRequest: 1.0 },
      { rate: 200, p50Ms: 3, p99Ms: 40, errors: 0, requests: 200, cpuMsPerRequest: 1.1 },
    ]);
    expect(s).toMatchObject({ rate: 200, p50Ms: 3, p99Ms: 20, errors: 1, requests: 601, rounds: [100, 300, 200], cpuMsPerRequest: 1.1 });
    expect(s.resumedFraction).toBeUndefined();
  });
});

describe('token schedule', () => {
  it('sends every token once with reuse 1, continuing where the previous run stopped', () => {
    const use = { reuse: 1, active: 1 };
    expect([0, 1, 2, 3].map((n) => tokenIndex(n, 10, use, 1000))).toEqual([10, 11, 12, 13]);
    expect(nextStart(4, 10, use)).toBe(14);
    expect(tokenIndex(5, 998, use, 1000)).toBe(3);
  });

  it('spreads requests over the active tokens, each used `reuse` times', () => {
    const use = { reuse: 3, active: 2 };
    const indexes = Array.from({ length: 8 }, (_, n) => tokenIndex(n, 0, use, 100));
    expect(indexes).toEqual([0, 1, 0, 1, 0, 1, 2, 3]);
    expect(nextStart(8, 0, use)).toBe(4);
  });
});

describe('validateOutput', () => {
  it('accepts the contract, extra members included', () => {
    expect(validateOutput({ machine: { cpu: 'x' }, scenarios: [{ ...validRow, baseline_p50_ms: 4 }] })).toEqual([]);
  });

  it('names every violation', () => {
    const problems = validateOutput({
      machine: null,
      scenarios: [{ ...validRow, scenario: 'throughput', ratio: 2, p99_ms: undefined, unit: '' }],
    });
    expect(problems).toEqual([
      'machine must be an object',
      `scenarios[0].scenario "throughput" does not start with one of ${SCENARIO_PREFIXES.join(', ')}`,
      'scenarios[0].unit must be a string',
      'scenarios[0].p99_ms must be a finite number or null',
      'scenarios[0].ratio 2 is not certbound/baseline (1.04)',
    ]);
    expect(validateOutput([])).toEqual(['the document is not a JSON object']);
    expect(validateOutput({ machine: {}, scenarios: [] })).toEqual(['scenarios must be a non-empty array']);
  });

  it('accepts every scenario prefix with or without a suffix', () => {
    for (const prefix of SCENARIO_PREFIXES) {
      expect(
        validateOutput({
          machine: {},
          scenarios: [
            { ...validRow, scenario: prefix },
            { ...validRow, scenario: `${prefix}-postgres` },
          ],
        }),
      ).toEqual([]);
    }
  });
});

describe('targets', () => {
  it('applies the issue targets by prefix; memory is better when lower; -info rows have none', () => {
    expect(meets(targetOf('issuance-keepalive-postgres'), 1.2)).toBe(true);
    expect(meets(targetOf('issuance-keepalive-sqlite'), 1.19)).toBe(false);
    expect(meets(targetOf('verifier-reused-inprocess'), 2.9)).toBe(false);
    expect(meets(targetOf('rss-sqlite'), 1.19)).toBe(true);
    expect(meets(targetOf('rss-sqlite'), 1.21)).toBe(false);
    expect(targetOf('issuance-fresh-connection-sqlite-vs-resumed-info')).toBeUndefined();
  });

  it('the longest prefix wins: the verifier against a static reply needs 0.8×, against bare jose 3×', () => {
    expect(meets(targetOf('verifier-reused-vs-static'), 0.8)).toBe(true);
    expect(meets(targetOf('verifier-reused-vs-static'), 0.79)).toBe(false);
    expect(meets(targetOf('verifier-reused'), 2.9)).toBe(false);
    expect(validateOutput({ machine: {}, scenarios: [{ ...validRow, scenario: 'verifier-reused-vs-static' }] })).toEqual([]);
  });

  it('the refresh rows: at least 1.0× bare oidc-provider on the same database; against its memory adapter reported without a target', () => {
    expect(meets(targetOf('refresh-keepalive-sqlite'), 1.0)).toBe(true);
    expect(meets(targetOf('refresh-keepalive-postgres'), 0.99)).toBe(false);
    expect(targetOf('refresh-keepalive-postgres-vs-memory-info')).toBeUndefined();
    expect(meets(targetOf('refresh-keepalive-sqlite-vs-memory-info'), 0.3)).toBeNull();
    expect(validateOutput({ machine: {}, scenarios: [{ ...validRow, scenario: 'refresh-keepalive-sqlite-vs-memory-info' }] })).toEqual([]);
  });

  it('the CLI rows are wall time against an empty node process: lower is better, at most 3× for --help and 6× for client list', () => {
    expect(meets(targetOf('cli-help'), 3.0)).toBe(true);
    expect(meets(targetOf('cli-help'), 3.01)).toBe(false);
    expect(meets(targetOf('cli-client-list'), 5.9)).toBe(true);
    expect(meets(targetOf('cli-client-list'), 6.1)).toBe(false);
  });

  it('the client rows: client.fetch with a cached token at least 0.95× bare undici; getToken on a cache hit vs Map.get is reported without a target', () => {
    expect(meets(targetOf('client-fetch-cached'), 0.95)).toBe(true);
    expect(meets(targetOf('client-fetch-cached'), 0.94)).toBe(false);
    expect(targetOf('client-gettoken-cached-inprocess')).toBeUndefined();
    expect(meets(targetOf('client-gettoken-cached-inprocess'), 0.1)).toBeNull();
    expect(
      validateOutput({
        machine: {},
        scenarios: [
          { ...validRow, scenario: 'client-fetch-cached' },
          { ...validRow, scenario: 'client-gettoken-cached-inprocess' },
        ],
      }),
    ).toEqual([]);
  });
});

describe('leastSquaresSlope (the soak memory slope)', () => {
  it('fits the line through exact points and the least-squares line through noisy ones', () => {
    expect(
      leastSquaresSlope([
        [0, 100],
        [1, 102],
        [2, 104],
        [3, 106],
      ]),
    ).toBeCloseTo(2, 12);
    // Noisy points: sum((x - 3)(y - 11.5)) / sum((x - 3)^2) = 6 / 20.
    expect(
      leastSquaresSlope([
        [0, 11],
        [2, 10],
        [4, 13],
        [6, 12],
      ]),
    ).toBeCloseTo(0.3, 12);
    expect(
      leastSquaresSlope([
        [0, 50],
        [5, 50],
        [10, 50],
      ]),
    ).toBe(0);
  });

  it('is NaN where no line is defined (fewer than two distinct x)', () => {
    expect(leastSquaresSlope([])).toBeNaN();
    expect(leastSquaresSlope([[1, 5]])).toBeNaN();
    expect(
      leastSquaresSlope([
        [1, 5],
        [1, 7],
      ]),
    ).toBeNaN();
  });
});
