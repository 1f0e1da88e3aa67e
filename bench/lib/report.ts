/** The targets, the markdown table, and the machine description written with every run. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { round, type ScenarioResult } from './stats.js';

export interface Target {
  /** `min`: ratio must be at least `value` (throughput); `max`: at most (memory). */
  kind: 'min' | 'max';
  value: number;
}

/** The targets of the issue, by scenario prefix. Rows whose name ends in `-info` have none. */
export const TARGETS: Record<string, Target> = {
  'issuance-keepalive': { kind: 'min', value: 1.2 },
  'issuance-fresh-connection': { kind: 'min', value: 0.9 },
  'refresh-keepalive': { kind: 'min', value: 1.0 },
  'verifier-unique': { kind: 'min', value: 0.9 },
  'verifier-reused': { kind: 'min', value: 3.0 },
  // the verifier's reused-token rate over HTTPS ÷ a static reply on the same connection setup (the ceiling)
  'verifier-reused-vs-static': { kind: 'min', value: 0.8 },
  'scale-100k-clients': { kind: 'min', value: 0.95 },
  rss: { kind: 'max', value: 1.2 },
  // wall time of the command ÷ that of an empty `node -e 0`
  'cli-help': { kind: 'max', value: 3.0 },
  'cli-client-list': { kind: 'max', value: 6.0 },
  // client.fetch with a cached token ÷ bare undici with a fixed Authorization header;
  // client-gettoken-cached-inprocess is reported without a target
  'client-fetch-cached': { kind: 'min', value: 0.95 },
};

/** The target of the longest prefix that names the row (`verifier-reused-vs-static` before `verifier-reused`). */
export function targetOf(scenario: string): Target | undefined {
  if (scenario.endsWith('-info')) return undefined;
  let best: string | undefined;
  for (const p of Object.keys(TARGETS)) if ((scenario === p || scenario.startsWith(`${p}-`)) && p.length > (best?.length ?? 0)) best = p;
  return best ? TARGETS[best] : undefined;
}

export function targetText(t: Target | undefined): string {
  return t ? `${t.kind === 'min' ? '≥' : '≤'} ${t.value.toFixed(2)}×` : '—';
}

export function meets(t: Target | undefined, ratio: number): boolean | null {
  if (!t) return null;
  return t.kind === 'min' ? ratio >= t.value : ratio <= t.value;
}

const fmt = (n: number | null | undefined, decimals = 0) =>
  n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });

/** The markdown table of the README and of the console. */
export function markdownTable(rows: readonly ScenarioResult[]): string {
  const lines = [
    '| scenario | certbound | baseline | unit | ratio | target | met | p50 / p99 ms (certbound) | p50 / p99 ms (baseline) | peak RSS MB (certbound / baseline) |',
    '| --- | ---: | ---: | --- | ---: | ---: | :---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const t = targetOf(r.scenario);
    const met = meets(t, r.ratio);
    const decimals = r.unit === 'MB' || r.unit === 'ms' ? 1 : 0;
    const lat = (p50: unknown, p99: unknown) => (typeof p50 === 'number' && typeof p99 === 'number' ? `${fmt(p50, 2)} / ${fmt(p99, 2)}` : '—');
    const rss = typeof r.peak_rss_mb === 'number' ? `${fmt(r.peak_rss_mb, 0)} / ${fmt(r.baseline_peak_rss_mb as number | undefined, 0)}` : '—';
    lines.push(
      `| ${r.scenario} | ${fmt(r.certbound, decimals)} | ${fmt(r.baseline, decimals)} | ${r.unit} | ${fmt(r.ratio, 2)}× | ${targetText(t)} | ${met === null ? '' : met ? 'yes' : '**no**'} | ${lat(r.p50_ms, r.p99_ms)} | ${lat(r.baseline_p50_ms, r.baseline_p99_ms)} | ${rss} |`,
    );
  }
  return lines.join('\n');
}

function tryExec(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

export function describeMachine(extra: Record<string, unknown>): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit: tryExec('git', ['rev-parse', '--short', 'HEAD']),
    // Others may be editing the tree while a run compiles it: say whether the sources matched the commit.
    uncommitted_source_changes: (tryExec('git', ['status', '--porcelain', '--', 'src', 'migrations']) ?? '') !== '',
    date: new Date().toISOString(),
    ...extra,
  };
}
