/**
 * The CLI rows: the wall time of a `certbound` command against an empty Node.js process (`node -e 0`),
 * both started by the same Node 22 binary (node_modules/.bin/node) with the same environment, run one
 * after the other with the order swapped every round, so that both sides see the same machine load;
 * the medians are compared. The command runs from dist/ (the bundle in dist/cli/), as the installed `certbound` does.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { median, percentile, ratio, round, type ScenarioResult } from './stats.js';

export interface CliScenario {
  scenario: string;
  /** Arguments of bin/certbound.js. */
  args: string[];
  env: Record<string, string>;
  /** Why the output is not what the command should print, or undefined when it is. */
  check(stdout: string): string | undefined;
  about: Record<string, unknown>;
}

/** CPU time (user + system) of this process's waited-for children so far, ms (clock ticks of 1/100 s); undefined without /proc. */
function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name start at field 3; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

interface Run {
  wallMs: number;
  cpuMs: number | undefined;
}

function runOnce(node: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Run & { status: number | null; stdout: string; stderr: string } {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(node, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - t0;
  const cpu1 = childrenCpuMs();
  if (r.error) throw r.error;
  return { wallMs, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The newest modification time (ms) of the files under `dir` whose name ends with `suffix`. */
function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** A note when dist/ is older than the sources it is built from (the rows would measure an old CLI). */
export function staleDistNote(root: string): string | undefined {
  // The CLI bundle (scripts/build-cli.mjs), the last part of the CLI `npm run build` writes.
  const built = path.join(root, 'dist/cli/main.js');
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error(`${built} is missing: the CLI rows run the built CLI.\n  → Run \`npm run build\` first.`);
  }
  return newestMtime(path.join(root, 'src'), '.ts') > builtAt
    ? 'cli rows: src/ has files newer than dist/ (the CLI measured may be out of date; `npm run build` rebuilds it).'
    : undefined;
}

/**
 * Measures each scenario: one checked run of the command, `warmup` runs of each side (file cache), then
 * `runs` rounds of one run per side, the side that goes first alternating. Returns one row per scenario.
 */
export function measureCli(scenarios: readonly CliScenario[], options: { root: string; runs: number; warmup: number; log(line: string): void }): ScenarioResult[] {
  const node = path.join(options.root, 'node_modules/.bin/node');
  const bin = path.join(options.root, 'bin/certbound.js');
  const rows: ScenarioResult[] = [];
  for (const s of scenarios) {
    // Both sides get the same environment; NODE_OPTIONS (a loader of the harness's own) would load into both.
    const env: NodeJS.ProcessEnv = { ...process.env, ...s.env };
    delete env.NODE_OPTIONS;
    const sides = [
      { name: 'certbound', args: [bin, ...s.args] },
      { name: 'node -e 0', args: ['-e', '0'] },
    ];
    const probe = runOnce(node, sides[0]!.args, { cwd: options.root, env });
    const wrong = probe.status === 0 ? s.check(probe.stdout) : `exit ${probe.status}: ${probe.stderr}`;
    if (wrong) throw new Error(`${s.scenario}: certbound ${s.args.join(' ')} did not work: ${wrong}`);
    for (let i = 0; i < options.warmup; i++) for (const side of sides) runOnce(node, side.args, { cwd: options.root, env });
    const measured: Run[][] = [[], []];
    for (let r = 0; r < options.runs; r++) {
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const run = runOnce(node, sides[i]!.args, { cwd: options.root, env });
        if (run.status !== 0) throw new Error(`${s.scenario}: ${sides[i]!.name} exited ${run.status} in round ${r + 1}: ${run.stderr}`);
        measured[i]!.push(run);
      }
    }
    const [ours, base] = measured.map((runs) => runs.map((x) => x.wallMs)) as [number[], number[]];
    const cpu = measured.map((runs) => runs.map((x) => x.cpuMs).filter((v): v is number => v !== undefined));
    const row: ScenarioResult = {
      scenario: s.scenario,
      certbound: round(median(ours), 1),
      baseline: round(median(base), 1),
      unit: 'ms',
      ratio: round(ratio(median(ours), median(base)), 3),
      p50_ms: round(median(ours), 1),
      p99_ms: round(percentile(ours, 99), 1),
      peak_rss_mb: null,
      baseline_p50_ms: round(median(base), 1),
      baseline_p99_ms: round(percentile(base, 99), 1),
      certbound_runs_ms: ours.map((v) => round(v, 1)),
      baseline_runs_ms: base.map((v) => round(v, 1)),
      ...(cpu[0]!.length === options.runs && cpu[1]!.length === options.runs ? { certbound_cpu_ms: median(cpu[0]!), baseline_cpu_ms: median(cpu[1]!) } : {}),
      command: `certbound ${s.args.join(' ')}`,
      baseline_kind: 'node -e 0: an empty process of the same Node.js binary, same environment',
      ...s.about,
    };
    rows.push(row);
    options.log(`${s.scenario}: certbound ${row.certbound} ms, node -e 0 ${row.baseline} ms (median of ${options.runs} runs each), ${round(row.ratio, 2)}×`);
  }
  return rows;
}
