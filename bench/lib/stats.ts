/**
 * Pure helpers of the benchmark harness: medians, percentiles, ratios and the output contract of
 * `bench/results/*.json`. No I/O here, so the unit test can run them in milliseconds.
 */

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new TypeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Nearest-rank percentile (p in 0..100) of a list that is already sorted ascending.
 * Nearest rank never invents a value that was not measured, which matters for p99 of small samples.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Percentile of an unsorted list (copies and sorts). */
export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(Float64Array.from(values).sort(), p);
}

/**
 * Least-squares slope of `y` over `x` (for the soak: MB per minute over the samples after the warm-up).
 * NaN with fewer than two distinct x values, where no line is defined.
 */
export function leastSquaresSlope(points: ReadonlyArray<readonly [x: number, y: number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/** Rounds to a fixed number of significant decimals for the JSON and the table. */
export function round(value: number, decimals = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** certbound ÷ baseline (higher is better for throughput, lower is better for memory). */
export function ratio(certbound: number, baseline: number): number {
  if (!(baseline > 0)) return Number.NaN;
  return certbound / baseline;
}

/** One round of one side: what the load generator measured. */
export interface RoundResult {
  /** Completed requests with the expected status per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests that failed (transport error or unexpected status). */
  errors: number;
  requests: number;
  /** Fraction of new TLS connections that resumed a session (fresh-connection mode only). */
  resumedFraction?: number | undefined;
  /** Server process CPU time (user + system) per successful request, ms. */
  cpuMsPerRequest?: number | undefined;
  /** Server and load-generator CPU time over the round's wall time (1 = one core busy). */
  serverCpuShare?: number | undefined;
  loadgenCpuShare?: number | undefined;
}

/** Medians over the rounds of one side. */
export interface SideSummary {
  rate: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  rounds: number[];
  resumedFraction?: number | undefined;
  cpuMsPerRequest?: number | undefined;
  serverCpuShare?: number | undefined;
  loadgenCpuShare?: number | undefined;
}

function medianOf(rounds: readonly RoundResult[], key: 'resumedFraction' | 'cpuMsPerRequest' | 'serverCpuShare' | 'loadgenCpuShare'): number | undefined {
  const values = rounds.map((r) => r[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return values.length ? median(values) : undefined;
}

export function summarizeRounds(rounds: readonly RoundResult[]): SideSummary {
  if (rounds.length === 0) throw new TypeError('no rounds to summarize');
  const optional = Object.fromEntries(
    (['resumedFraction', 'cpuMsPerRequest', 'serverCpuShare', 'loadgenCpuShare'] as const).map((k) => [k, medianOf(rounds, k)]).filter(([, v]) => v !== undefined),
  );
  return {
    rate: median(rounds.map((r) => r.rate)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    rounds: rounds.map((r) => round(r.rate, 1)),
    ...optional,
  };
}

/** The scenario name prefixes of the output contract. */
export const SCENARIO_PREFIXES = [
  'issuance-keepalive',
  'issuance-fresh-connection',
  'refresh-keepalive',
  'verifier-unique',
  'verifier-reused',
  'scale-100k-clients',
  'rss',
  'cli-help',
  'cli-client-list',
  'client-fetch-cached',
  'client-gettoken-cached-inprocess',
] as const;

/** One row of the output contract (extra members are allowed and documented in bench/README.md). */
export interface ScenarioResult {
  scenario: string;
  certbound: number;
  baseline: number;
  unit: string;
  ratio: number;
  p50_ms: number | null;
  p99_ms: number | null;
  peak_rss_mb: number | null;
  [extra: string]: unknown;
}

export interface BenchOutput {
  machine: Record<string, unknown>;
  scenarios: ScenarioResult[];
  [extra: string]: unknown;
}

/** Returns the list of contract violations of a results document (empty when it is valid). */
export function validateOutput(doc: unknown): string[] {
  const problems: string[] = [];
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return ['the document is not a JSON object'];
  const { machine, scenarios } = doc as Record<string, unknown>;
  if (!machine || typeof machine !== 'object' || Array.isArray(machine)) problems.push('machine must be an object');
  if (!Array.isArray(scenarios) || scenarios.length === 0) {
    problems.push('scenarios must be a non-empty array');
    return problems;
  }
  scenarios.forEach((s: unknown, i) => {
    const where = `scenarios[${i}]`;
    if (!s || typeof s !== 'object') {
      problems.push(`${where} is not an object`);
      return;
    }
    const row = s as Record<string, unknown>;
    if (typeof row.scenario !== 'string' || !SCENARIO_PREFIXES.some((p) => row.scenario === p || (row.scenario as string).startsWith(`${p}-`))) {
      problems.push(`${where}.scenario ${JSON.stringify(row.scenario)} does not start with one of ${SCENARIO_PREFIXES.join(', ')}`);
    }
    for (const key of ['certbound', 'baseline', 'ratio'] as const) {
      if (typeof row[key] !== 'number' || !Number.isFinite(row[key])) problems.push(`${where}.${key} must be a finite number`);
    }
    if (typeof row.unit !== 'string' || row.unit.length === 0) problems.push(`${where}.unit must be a string`);
    for (const key of ['p50_ms', 'p99_ms', 'peak_rss_mb'] as const) {
      if (!(key in row) || (row[key] !== null && (typeof row[key] !== 'number' || !Number.isFinite(row[key])))) problems.push(`${where}.${key} must be a finite number or null`);
    }
    if (typeof row.certbound === 'number' && typeof row.baseline === 'number' && typeof row.ratio === 'number' && row.baseline > 0) {
      const expected = row.certbound / row.baseline;
      if (Math.abs(expected - row.ratio) > 0.01 * Math.max(1, expected)) problems.push(`${where}.ratio ${row.ratio} is not certbound/baseline (${round(expected, 3)})`);
    }
  });
  return problems;
}
