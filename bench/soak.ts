/**
 * Soak: `npm run soak -- --minutes N`. One certbound (as `certbound serve` runs it, with a database of its
 * own) and one resource server using `certbound/verifier`, driven at a bounded rate over real mTLS on
 * loopback by the benchmark's load generator, for N minutes. Every sample window the harness reads the
 * servers' RSS and live heap (heap used right after a full collection); after the warm-up it fits a
 * least-squares line to each, and reports the slopes (MB/min), the errors and the latency percentiles
 * to stdout and to bench/results/soak-<date>.json. Not part of CI (see docs/soak.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';
import { type ChildHandle, forkChild } from './lib/child.js';
import { clientId, createBenchDatabase, createBenchPki, es256Jwk, RESOURCE, removeDir, SCOPES } from './lib/fixtures.js';
import { ask, buildDir, bundleCertbound, CERTBOUND_ENTRY, certboundEnv, compileChildren, compiled, RS_ISSUER, root, verifierRsEnv } from './lib/processes.js';
import { describeMachine } from './lib/report.js';
import { leastSquaresSlope, percentileSorted, round } from './lib/stats.js';
import { signTokens } from './lib/tokens.js';
import type { RunMessage } from './loadgen.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string' },
    'sample-seconds': { type: 'string', default: '10' },
    'token-rate': { type: 'string', default: '100' },
    'verifier-rate': { type: 'string', default: '200' },
    db: { type: 'string', default: 'sqlite' },
    'pg-url': { type: 'string', default: process.env.CERTBOUND_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

const usage = `usage: npm run soak -- [--minutes 10] [--warmup-minutes M] [--sample-seconds 10] [--token-rate 100] [--verifier-rate 200] [--db sqlite|postgres] [--pg-url URL] [--out FILE]`;
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
function positive(name: string, text: string | undefined, fallback?: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (value === undefined || !Number.isFinite(value) || value <= 0) {
    process.stderr.write(`soak: --${name} must be a positive number, got ${JSON.stringify(text)}\n${usage}\n`);
    process.exit(2);
  }
  return value;
}
const minutes = positive('minutes', args.minutes);
// The first minute (or 10 % of a short run) is start-up: caches and JIT fill, the heap finds its size.
const warmupMinutes = positive('warmup-minutes', args['warmup-minutes'], Math.min(1, minutes / 10));
const sampleMs = positive('sample-seconds', args['sample-seconds']) * 1000;
const tokenRate = positive('token-rate', args['token-rate']);
const verifierRate = positive('verifier-rate', args['verifier-rate']);
if (args.db !== 'sqlite' && args.db !== 'postgres') {
  process.stderr.write(`soak: --db must be sqlite or postgres, got ${JSON.stringify(args.db)}\n`);
  process.exit(2);
}
if (warmupMinutes >= minutes) {
  process.stderr.write(`soak: --warmup-minutes (${warmupMinutes}) must be shorter than --minutes (${minutes}), or no sample is left to fit\n`);
  process.exit(2);
}
const kind = args.db;
const started = new Date();
const outFile = path.resolve(args.out ?? path.join(root, `bench/results/soak-${started.toISOString().slice(0, 19).replace(/:/g, '-')}.json`));

const log = (line: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const TOKEN_FORM = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId(0), scope: SCOPES.join(' ') }).toString();
/** Requests in flight per target: a bounded rate needs few. */
const CONCURRENCY = 4;

interface Sample {
  /** Minutes since the load started. */
  t: number;
  rssMb: Record<string, number | null>;
  liveHeapMb: Record<string, number | null>;
}

interface TrafficTotals {
  requests: number;
  errors: number;
  firstError?: string;
  latencies: number[];
}

const children: ChildHandle[] = [];

async function main(): Promise<void> {
  const notes: string[] = [];
  const compileNote = compileChildren(log);
  if (compileNote) notes.push(compileNote);
  bundleCertbound(log);
  const pki = await createBenchPki([0]);
  const db = await createBenchDatabase({ kind, clients: 10, pki, pgAdminUrl: args['pg-url'] });
  try {
    const verifierKeys = await es256Jwk();
    const jwksFile = path.join(pki.dir, 'rs-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [verifierKeys.publicJwk] }));
    const start = async (name: string, entry: string, env: Record<string, string> = {}) => {
      const child = await forkChild({ name, entry: compiled(entry), env });
      children.push(child);
      log(`${name} ready`);
      return child;
    };
    const [certbound, verifierRs, loadgen] = await Promise.all([
      start('certbound', CERTBOUND_ENTRY, await certboundEnv(db, pki)),
      start('verifier-rs', 'bench/servers/verifier-resource-server.ts', await verifierRsEnv(pki, jwksFile)),
      start('loadgen', 'bench/loadgen.ts'),
    ]);

    // A real token bound to the client certificate before anything is measured.
    const probe = new Agent({ connect: { ...pki.clientTls(0), servername: 'localhost' } });
    try {
      const res = await request(`https://127.0.0.1:${certbound.ports.mtls}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: TOKEN_FORM,
        dispatcher: probe,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`the token endpoint answered ${res.statusCode}: ${text}`);
      const claims = decodeJwt(String((JSON.parse(text) as { access_token?: string }).access_token));
      if ((claims.cnf as Record<string, string> | undefined)?.['x5t#S256'] !== pki.thumbprint(0)) throw new Error('the probe token is not bound to the client certificate');
    } finally {
      await probe.close();
    }

    // The verifier sees a pool of tokens, each reused: a client reuses its token until it expires.
    const pool = await signTokens(2000, verifierKeys.privateJwk, {
      iss: RS_ISSUER,
      aud: RESOURCE,
      sub: clientId(0),
      client_id: clientId(0),
      scope: SCOPES.join(' '),
      cnf: { 'x5t#S256': pki.thumbprint(0) },
    });
    for (const child of [loadgen, verifierRs]) await ask(child, { type: 'tokens', pool: 'rs', tokens: pool });
    for (const [name, port] of [
      ['token', certbound.ports.mtls!],
      ['verifier', verifierRs.ports.http!],
    ] as const) {
      loadgen.process.send({ type: 'target', name, origin: `https://127.0.0.1:${port}`, mode: 'keepalive', connections: CONCURRENCY, tls: pki.clientTls(0) });
    }
    const windows: Record<'token' | 'verifier', Omit<RunMessage, 'id' | 'durationMs'>> = {
      token: {
        type: 'run',
        target: 'token',
        method: 'POST',
        path: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: TOKEN_FORM,
        expectStatus: 200,
        concurrency: CONCURRENCY,
        ratePerSec: tokenRate,
        returnLatencies: true,
      },
      verifier: {
        type: 'run',
        target: 'verifier',
        method: 'GET',
        path: '/orders',
        bearer: { pool: 'rs', reuse: 50, active: 20 },
        expectStatus: 200,
        concurrency: CONCURRENCY,
        ratePerSec: verifierRate,
        returnLatencies: true,
      },
    };

    const servers = { certbound, 'verifier-rs': verifierRs };
    const samples: Sample[] = [];
    const totals: Record<'token' | 'verifier', TrafficTotals> = { token: { requests: 0, errors: 0, latencies: [] }, verifier: { requests: 0, errors: 0, latencies: [] } };
    const sample = async (t: number) => {
      const s: Sample = { t, rssMb: {}, liveHeapMb: {} };
      for (const [name, child] of Object.entries(servers)) {
        s.rssMb[name] = child.rssMb() ?? null;
        s.liveHeapMb[name] = (await ask<{ liveHeapMb: number }>(child, { type: 'live-heap' })).liveHeapMb;
      }
      samples.push(s);
      return s;
    };

    const loadStart = performance.now();
    const endAt = loadStart + minutes * 60_000;
    await sample(0);
    log(`load: ${tokenRate} token requests/s and ${verifierRate} verifier requests/s for ${minutes} min, a sample every ${sampleMs / 1000} s, warm-up ${warmupMinutes} min`);
    while (performance.now() < endAt) {
      const durationMs = Math.min(sampleMs, endAt - performance.now());
      // A remainder under a second would be a sample of start-up noise, not of the load.
      if (durationMs < 1000) break;
      const results = await Promise.all(
        (['token', 'verifier'] as const).map((name) =>
          ask<{ requests: number; errors: number; firstError?: string; latenciesMs?: number[] }>(loadgen, { ...windows[name], durationMs }).then((r) => [name, r] as const),
        ),
      );
      for (const [name, r] of results) {
        const total = totals[name];
        total.requests += r.requests;
        total.errors += r.errors;
        if (r.firstError && !total.firstError) total.firstError = r.firstError;
        for (const l of r.latenciesMs ?? []) total.latencies.push(l);
      }
      const s = await sample((performance.now() - loadStart) / 60_000);
      log(
        `t=${s.t.toFixed(1)} min  RSS certbound ${s.rssMb.certbound?.toFixed(1)} MB, verifier-rs ${s.rssMb['verifier-rs']?.toFixed(1)} MB; live heap ${s.liveHeapMb.certbound?.toFixed(1)} / ${s.liveHeapMb['verifier-rs']?.toFixed(1)} MB; errors ${totals.token.errors} / ${totals.verifier.errors}`,
      );
    }

    const after = samples.filter((s) => s.t >= warmupMinutes);
    const slope = (pick: (s: Sample) => number | null) => round(leastSquaresSlope(after.flatMap((s) => (pick(s) === null ? [] : [[s.t, pick(s)!] as const]))), 3);
    const serverRows = Object.keys(servers).map((name) => ({
      server: name,
      rss_start_mb: round(samples[0]!.rssMb[name] ?? Number.NaN, 1),
      rss_end_mb: round(samples.at(-1)!.rssMb[name] ?? Number.NaN, 1),
      rss_slope_mb_per_min: slope((s) => s.rssMb[name] ?? null),
      live_heap_start_mb: round(samples[0]!.liveHeapMb[name] ?? Number.NaN, 1),
      live_heap_end_mb: round(samples.at(-1)!.liveHeapMb[name] ?? Number.NaN, 1),
      live_heap_slope_mb_per_min: slope((s) => s.liveHeapMb[name] ?? null),
    }));
    const trafficRows = (['token', 'verifier'] as const).map((name) => {
      const t = totals[name];
      const sorted = Float64Array.from(t.latencies).sort();
      return {
        traffic: name === 'token' ? 'POST /token (client_credentials, tls_client_auth)' : 'GET /orders (certbound/verifier, bound JWT)',
        requests: t.requests,
        errors: t.errors,
        ...(t.firstError ? { first_error: t.firstError } : {}),
        p50_ms: round(percentileSorted(sorted, 50), 2),
        p95_ms: round(percentileSorted(sorted, 95), 2),
        p99_ms: round(percentileSorted(sorted, 99), 2),
        max_ms: round(sorted.at(-1) ?? Number.NaN, 2),
      };
    });
    const output = {
      machine: describeMachine({
        mode: 'soak',
        database: kind,
        minutes,
        warmup_minutes: warmupMinutes,
        sample_seconds: sampleMs / 1000,
        token_rate_per_s: tokenRate,
        verifier_rate_per_s: verifierRate,
        concurrency: CONCURRENCY,
        started: started.toISOString(),
      }),
      servers: serverRows,
      traffic: trafficRows,
      samples: samples.map((s) => ({ t_min: round(s.t, 3), rss_mb: s.rssMb, live_heap_mb: s.liveHeapMb })),
      ...(notes.length ? { notes } : {}),
    };
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(output, null, 2)}\n`);
    const table = (rows: Record<string, unknown>[]) => {
      const keys = Object.keys(rows[0]!);
      return [`| ${keys.join(' | ')} |`, `| ${keys.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${keys.map((k) => String(r[k] ?? '')).join(' | ')} |`)].join('\n');
    };
    process.stdout.write(`${table(serverRows)}\n\n${table(trafficRows)}\n\nWrote ${path.relative(process.cwd(), outFile)}.\n`);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await db.drop().catch((err: unknown) => log(`could not drop the soak database: ${String(err)}`));
    removeDir(pki.dir);
    removeDir(buildDir);
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  for (const c of children) process.stderr.write(`--- last output of ${c.name} ---\n${c.output()}\n`);
  await Promise.all(children.map((c) => c.stop(2000).catch(() => {})));
  process.exit(1);
});
