/**
 * `npm run bench [-- --quick] [--out FILE] [--only PREFIX,…] [--profile]`
 *
 * Measures certbound against the bare libraries in the same run (issue 6): every server in a process
 * of its own, driven by a separate load-generator process over real mTLS, sides alternated round by
 * round (A B A B …, three sides rotated), medians of the rounds. Writes the results document (default
 * bench/results/latest.json) and prints the markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import { decodeJwt } from 'jose';
import { request, Agent } from 'undici';
import { type ChildHandle, forkChild } from './lib/child.js';
import { type BenchDatabase, type BenchPki, clientId, createBenchDatabase, createBenchPki, es256Jwk, RESOURCE, removeDir, SCOPES } from './lib/fixtures.js';
import { describeMachine, markdownTable, meets, targetOf, targetText } from './lib/report.js';
import { median, type RoundResult, ratio, round, type ScenarioResult, type SideSummary, summarizeRounds, validateOutput } from './lib/stats.js';
import type { ConnectionMode, RunMessage } from './loadgen.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(root, 'bench/results/latest.json') },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'pg-url': { type: 'string', default: process.env.CERTBOUND_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
  strict: true,
});

/** Durations and sizes; --quick keeps the whole run under two minutes on 2 cores. */
const settings = args.quick
  ? { rounds: 3, roundMs: 1500, warmupMs: 1000, concurrency: 16, scaleClients: 100_000, tokenPool: 40_000 }
  : { rounds: 5, roundMs: 5000, warmupMs: 3000, concurrency: 16, scaleClients: 100_000, tokenPool: 120_000 };

const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean);
const wanted = (prefix: string) => !only || only.some((o) => prefix.startsWith(o) || o.startsWith(prefix));
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const profileDir = path.join(root, 'bench/results/profiles');
const profileArgs = (name: string) => (args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`] : []);

const ISSUER_HOST = 'localhost';
const TOKEN_FORM = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId(0), scope: SCOPES.join(' ') }).toString();

// ---------------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildHandle>();
async function start(name: string, entry: string, env: Record<string, string>): Promise<ChildHandle> {
  const child = await forkChild({ name, entry: path.join(root, entry), env, execArgv: profileArgs(name) });
  children.add(child);
  return child;
}
async function stop(...list: ChildHandle[]): Promise<void> {
  await Promise.all(list.map((c) => c.stop()));
  for (const c of list) children.delete(c);
}

const handedOut = new Set<number>();
/** A loopback port that was free a moment ago and that this run has not handed out before. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createNetServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found');
}

async function startCertbound(name: string, db: BenchDatabase, pki: BenchPki): Promise<ChildHandle> {
  const [port, mtlsPort] = [await freePort(), await freePort()];
  return start(name, 'bench/servers/certbound.ts', {
    CERTBOUND_ENV: 'production',
    CERTBOUND_DATABASE_URL: db.url,
    CERTBOUND_ISSUER: `https://${ISSUER_HOST}:${port}`,
    CERTBOUND_MTLS_URL: `https://${ISSUER_HOST}:${mtlsPort}`,
    CERTBOUND_PORT: String(port),
    CERTBOUND_MTLS_PORT: String(mtlsPort),
    CERTBOUND_HOST: '127.0.0.1',
    CERTBOUND_TLS_CERT: pki.files.serverCert,
    CERTBOUND_TLS_KEY: pki.files.serverKey,
    CERTBOUND_LOG_LEVEL: 'info',
    CERTBOUND_DATA_DIR: pki.dir,
  });
}

async function startBareOidc(pki: BenchPki, jwkFile: string): Promise<ChildHandle> {
  const port = await freePort();
  return start('bare-oidc-provider', 'bench/baselines/oidc-provider.ts', {
    BENCH_PORT: String(port),
    BENCH_ISSUER: `https://${ISSUER_HOST}:${port}`,
    BENCH_RESOURCE: RESOURCE,
    BENCH_SCOPES: SCOPES.join(' '),
    BENCH_CLIENT: JSON.stringify({ clientId: clientId(0), sanDns: 'client-0.bench.test' }),
    BENCH_SIGNING_JWK_FILE: jwkFile,
    BENCH_TLS_CERT: pki.files.serverCert,
    BENCH_TLS_KEY: pki.files.serverKey,
    BENCH_CLIENT_CA: pki.files.ca,
  });
}

// ---------------------------------------------------------------------------------------------------
// Load generator

let loadgen: ChildHandle;
let nextId = 1;
function ask<T>(message: Record<string, unknown>): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string; id?: number; result?: T; error?: string }) => {
      if (m?.type !== 'done' || m.id !== id) return;
      loadgen.process.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolve(m.result as T);
    };
    loadgen.process.on('message', onMessage);
    loadgen.process.send({ ...message, id });
  });
}

function addTarget(name: string, port: number, mode: ConnectionMode, tls: { ca: string; cert: string; key: string }): void {
  loadgen.process.send({ type: 'target', name, origin: `https://127.0.0.1:${port}`, mode, connections: settings.concurrency, tls });
}

interface Side {
  /** Load-generator target name. */
  target: string;
  /** The process serving it (CPU accounting). */
  server: ChildHandle;
  request: Omit<RunMessage, 'type' | 'id' | 'target' | 'durationMs' | 'concurrency'>;
}

async function runOnce(side: Side, durationMs: number): Promise<RoundResult & { firstError?: string }> {
  const cpu0 = side.server.cpuMs();
  const lg0 = loadgen.cpuMs();
  const t0 = performance.now();
  const result = await ask<RoundResult & { firstError?: string }>({ type: 'run', target: side.target, durationMs, concurrency: settings.concurrency, ...side.request });
  const wall = performance.now() - t0;
  const cpu1 = side.server.cpuMs();
  const lg1 = loadgen.cpuMs();
  if (cpu0 !== undefined && cpu1 !== undefined && lg0 !== undefined && lg1 !== undefined) {
    const ok = result.requests - result.errors;
    result.cpuMsPerRequest = ok ? (cpu1 - cpu0) / ok : undefined;
    result.serverCpuShare = (cpu1 - cpu0) / wall;
    result.loadgenCpuShare = (lg1 - lg0) / wall;
  }
  return result;
}

/** Warm-up of every side, then `rounds` rounds with the side order rotated each round; medians. */
async function alternate(label: string, sides: Side[]): Promise<SideSummary[]> {
  for (const side of sides) {
    const warm = await runOnce(side, settings.warmupMs);
    if (warm.errors) throw new Error(`${label}: warm-up of ${side.target} had ${warm.errors} failed requests (${warm.firstError})`);
  }
  const perSide: RoundResult[][] = sides.map(() => []);
  for (let r = 0; r < settings.rounds; r++) {
    const order = sides.map((_, i) => (i + r) % sides.length);
    for (const i of order) {
      const result = await runOnce(sides[i]!, settings.roundMs);
      if (result.errors) throw new Error(`${label}: round ${r + 1} of ${sides[i]!.target} had ${result.errors} failed requests (${result.firstError})`);
      perSide[i]!.push(result);
    }
    log(`${label} round ${r + 1}/${settings.rounds}: ${sides.map((s, i) => `${s.target} ${Math.round(perSide[i]!.at(-1)!.rate)}/s (${perSide[i]!.at(-1)!.cpuMsPerRequest?.toFixed(2) ?? '?'} ms CPU/req)`).join(', ')}`);
  }
  return perSide.map(summarizeRounds);
}

const tokenSide = (target: string, server: ChildHandle): Side => ({
  target,
  server,
  request: { method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: TOKEN_FORM, expectStatus: 200 },
});

function row(scenario: string, unit: string, a: SideSummary, b: SideSummary, extra: Record<string, unknown> = {}, rss?: { certbound?: number | undefined; baseline?: number | undefined }): ScenarioResult {
  return {
    scenario,
    certbound: round(a.rate, 1),
    baseline: round(b.rate, 1),
    unit,
    ratio: round(ratio(a.rate, b.rate), 3),
    p50_ms: round(a.p50Ms, 3),
    p99_ms: round(a.p99Ms, 3),
    peak_rss_mb: rss?.certbound === undefined ? null : round(rss.certbound, 1),
    baseline_p50_ms: round(b.p50Ms, 3),
    baseline_p99_ms: round(b.p99Ms, 3),
    baseline_peak_rss_mb: rss?.baseline === undefined ? null : round(rss.baseline, 1),
    certbound_rounds: a.rounds,
    baseline_rounds: b.rounds,
    ...(a.cpuMsPerRequest !== undefined && b.cpuMsPerRequest !== undefined
      ? {
          certbound_cpu_ms_per_req: round(a.cpuMsPerRequest, 3),
          baseline_cpu_ms_per_req: round(b.cpuMsPerRequest, 3),
          cpu_ratio: round(b.cpuMsPerRequest / a.cpuMsPerRequest, 3),
          certbound_server_cpu_share: round(a.serverCpuShare ?? Number.NaN, 2),
          baseline_server_cpu_share: round(b.serverCpuShare ?? Number.NaN, 2),
          loadgen_cpu_share: round(median([a.loadgenCpuShare ?? Number.NaN, b.loadgenCpuShare ?? Number.NaN]), 2),
        }
      : {}),
    ...extra,
  };
}

/** One token request over a fresh connection: 200 and a token bound to the client certificate. */
async function probeToken(label: string, port: number, pki: BenchPki): Promise<number> {
  const agent = new Agent({ connect: { ...pki.clientTls(0), servername: 'localhost' } });
  try {
    const res = await request(`https://127.0.0.1:${port}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: TOKEN_FORM, dispatcher: agent });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${label}: token request answered ${res.statusCode}: ${text}`);
    const token = String((JSON.parse(text) as { access_token?: string }).access_token);
    const claims = decodeJwt(token) as { cnf?: Record<string, string>; aud?: unknown };
    if (claims.cnf?.['x5t#S256'] !== pki.thumbprint(0)) throw new Error(`${label}: the token is not bound to the client certificate`);
    return text.length;
  } finally {
    await agent.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

const rows: ScenarioResult[] = [];
const notes: string[] = [];
let pgAvailable = false;

async function pgReachable(url: string): Promise<boolean> {
  const k = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 3000 });
  try {
    await k.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await k.destroy();
  }
}

async function withDatabases<T>(specs: { kind: 'sqlite' | 'postgres'; clients: number }[], pki: BenchPki, fn: (dbs: BenchDatabase[]) => Promise<T>): Promise<T> {
  const dbs: BenchDatabase[] = [];
  try {
    for (const spec of specs) dbs.push(await createBenchDatabase({ ...spec, pki, pgAdminUrl: args['pg-url'] }));
    return await fn(dbs);
  } finally {
    for (const db of dbs) await db.drop().catch((err: unknown) => log(`could not drop a bench database: ${String(err)}`));
  }
}

/** Scenario 1 (and 5): keep-alive issuance, certbound on SQLite and PostgreSQL vs bare oidc-provider; peak RSS. */
async function issuanceKeepalive(pki: BenchPki, jwkFile: string): Promise<void> {
  const kinds: ('sqlite' | 'postgres')[] = pgAvailable ? ['sqlite', 'postgres'] : ['sqlite'];
  await withDatabases(
    kinds.map((kind) => ({ kind, clients: 10 })),
    pki,
    async (dbs) => {
      const servers = await Promise.all([startBareOidc(pki, jwkFile), ...dbs.map((db) => startCertbound(`certbound-${db.kind}`, db, pki))]);
      try {
        const sides: Side[] = [];
        for (const s of servers) {
          await probeToken(s.name, s.ports.mtls!, pki);
          addTarget(`${s.name}:keepalive`, s.ports.mtls!, 'keepalive', pki.clientTls(0));
          sides.push(tokenSide(`${s.name}:keepalive`, s));
        }
        const [bare, ...cb] = await alternate('issuance-keepalive', sides);
        const bareRss = servers[0]!.peakRssMb();
        dbs.forEach((db, i) => {
          const cbRss = servers[i + 1]!.peakRssMb();
          rows.push(row(`issuance-keepalive-${db.kind}`, 'req/s', cb[i]!, bare!, {}, { certbound: cbRss, baseline: bareRss }));
          if (cbRss !== undefined && bareRss !== undefined) {
            rows.push({
              scenario: `rss-${db.kind}`,
              certbound: round(cbRss, 1),
              baseline: round(bareRss, 1),
              unit: 'MB',
              ratio: round(ratio(cbRss, bareRss), 3),
              p50_ms: null,
              p99_ms: null,
              peak_rss_mb: round(cbRss, 1),
              baseline_peak_rss_mb: round(bareRss, 1),
              note: 'VmHWM of the server process after the keep-alive issuance rounds',
            });
          }
        });
      } finally {
        await stop(...servers);
      }
    },
  );
}

/** Scenario 2: a new TLS connection per request, session resumption offered by the client. */
async function issuanceFreshConnection(pki: BenchPki): Promise<void> {
  await withDatabases([{ kind: 'sqlite', clients: 10 }], pki, async ([db]) => {
    const certbound = await startCertbound('certbound-sqlite', db!, pki);
    const bodyBytes = await probeToken('certbound-sqlite', certbound.ports.mtls!, pki);
    const bare = await start('bare-https', 'bench/baselines/https-static.ts', {
      BENCH_PORT: String(await freePort()),
      BENCH_TLS_CERT: pki.files.serverCert,
      BENCH_TLS_KEY: pki.files.serverKey,
      BENCH_CLIENT_CA: pki.files.ca,
      BENCH_BODY_BYTES: String(Math.max(100, bodyBytes - 90)),
    });
    try {
      addTarget('certbound:fresh', certbound.ports.mtls!, 'fresh', pki.clientTls(0));
      addTarget('bare-https:fresh', bare.ports.mtls!, 'fresh', pki.clientTls(0));
      addTarget('bare-https:fresh-full', bare.ports.mtls!, 'fresh-full', pki.clientTls(0));
      const [cb, resumedBare, fullBare] = await alternate('issuance-fresh-connection', [tokenSide('certbound:fresh', certbound), tokenSide('bare-https:fresh', bare), tokenSide('bare-https:fresh-full', bare)]);
      const rss = { certbound: certbound.peakRssMb(), baseline: bare.peakRssMb() };
      rows.push(
        row('issuance-fresh-connection-sqlite', 'req/s', cb!, resumedBare!, { certbound_resumed_fraction: round(cb!.resumedFraction ?? 0, 3), baseline_resumed_fraction: round(resumedBare!.resumedFraction ?? 0, 3), baseline_kind: 'bare https, static reply, same client (session resumption offered)' }, rss),
      );
      rows.push(
        row('issuance-fresh-connection-sqlite-vs-full-handshake-info', 'req/s', cb!, fullBare!, { certbound_resumed_fraction: round(cb!.resumedFraction ?? 0, 3), baseline_resumed_fraction: round(fullBare!.resumedFraction ?? 0, 3), baseline_kind: 'bare https, static reply, full handshake every request' }, rss),
      );
    } finally {
      await stop(certbound, bare);
    }
  });
}

/** Scenario 3: verifier vs bare jose.jwtVerify + thumbprint, unique tokens and tokens used 100 times. */
async function verifier(pki: BenchPki): Promise<void> {
  const { privateJwk, publicJwk } = await es256Jwk();
  const jwksFile = path.join(pki.dir, 'rs-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }));
  const issuer = 'https://as.bench.test';
  const env = async () => ({ BENCH_PORT: String(await freePort()), BENCH_TLS_CERT: pki.files.serverCert, BENCH_TLS_KEY: pki.files.serverKey, BENCH_CLIENT_CA: pki.files.ca, BENCH_JWKS_FILE: jwksFile, BENCH_ISSUER: issuer, BENCH_RESOURCE: RESOURCE });
  const claims = { iss: issuer, aud: RESOURCE, sub: clientId(0), client_id: clientId(0), scope: SCOPES.join(' '), cnf: { 'x5t#S256': pki.thumbprint(0) } };
  log(`signing ${settings.tokenPool} tokens`);
  await ask({ type: 'tokens', pool: 'rs', count: settings.tokenPool, signingJwk: privateJwk, claims });
  const [ours, bare] = await Promise.all([start('verifier-rs', 'bench/servers/verifier-resource-server.ts', await env()), start('jose-rs', 'bench/baselines/jose-resource-server.ts', await env())]);
  try {
    addTarget('verifier:keepalive', ours.ports.http!, 'keepalive', pki.clientTls(0));
    addTarget('jose:keepalive', bare.ports.http!, 'keepalive', pki.clientTls(0));
    const rsSide = (target: string, server: ChildHandle, reuse: number, active: number): Side => ({ target, server, request: { method: 'GET', path: '/orders', bearer: { pool: 'rs', reuse, active }, expectStatus: 200 } });
    for (const [name, reuse, active] of [
      ['verifier-unique', 1, 1],
      ['verifier-reused', 100, 64],
    ] as const) {
      if (!wanted(name)) continue;
      const [a, b] = await alternate(name, [rsSide('verifier:keepalive', ours, reuse, active), rsSide('jose:keepalive', bare, reuse, active)]);
      rows.push(row(name, 'req/s', a!, b!, { token_uses: reuse, tokens_in_use: active }, { certbound: ours.peakRssMb(), baseline: bare.peakRssMb() }));
    }
  } finally {
    await stop(ours, bare);
  }
}

/** Scenario 4: issuance for one client of a 100 000-client database vs a 10-client database. */
async function scale(pki: BenchPki): Promise<void> {
  const kinds: ('sqlite' | 'postgres')[] = pgAvailable ? ['sqlite', 'postgres'] : ['sqlite'];
  for (const kind of kinds) {
    log(`scale-100k-clients-${kind}: inserting ${settings.scaleClients} clients`);
    await withDatabases(
      [
        { kind, clients: settings.scaleClients },
        { kind, clients: 10 },
      ],
      pki,
      async ([big, small]) => {
        const servers = await Promise.all([startCertbound(`certbound-${kind}-100k`, big!, pki), startCertbound(`certbound-${kind}-10`, small!, pki)]);
        try {
          for (const s of servers) {
            await probeToken(s.name, s.ports.mtls!, pki);
            addTarget(`${s.name}:keepalive`, s.ports.mtls!, 'keepalive', pki.clientTls(0));
          }
          const [a, b] = await alternate(`scale-100k-clients-${kind}`, servers.map((s) => tokenSide(`${s.name}:keepalive`, s)));
          rows.push(row(`scale-100k-clients-${kind}`, 'req/s', a!, b!, { clients: settings.scaleClients, baseline_kind: 'the same certbound with 10 clients' }, { certbound: servers[0]!.peakRssMb(), baseline: servers[1]!.peakRssMb() }));
        } finally {
          await stop(...servers);
        }
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const began = Date.now();
  if (args.profile) mkdirSync(profileDir, { recursive: true });
  pgAvailable = await pgReachable(args['pg-url']);
  if (!pgAvailable) notes.push(`PostgreSQL at ${args['pg-url']} was not reachable: PostgreSQL scenarios skipped.`);
  const pki = await createBenchPki([0]);
  const { privateJwk } = await es256Jwk();
  const jwkFile = path.join(pki.dir, 'bare-oidc-jwk.json');
  writeFileSync(jwkFile, JSON.stringify(privateJwk), { mode: 0o600 });
  loadgen = await forkChild({ name: 'loadgen', entry: path.join(here, 'loadgen.ts') });
  children.add(loadgen);
  try {
    if (wanted('issuance-keepalive') || wanted('rss')) await issuanceKeepalive(pki, jwkFile);
    if (wanted('issuance-fresh-connection')) await issuanceFreshConnection(pki);
    if (wanted('verifier-unique') || wanted('verifier-reused')) await verifier(pki);
    if (wanted('scale-100k-clients')) await scale(pki);
  } finally {
    await stop(...children);
    removeDir(pki.dir);
  }

  for (const r of rows) {
    const t = targetOf(r.scenario);
    r.target = t ? targetText(t) : null;
    r.met = meets(t, r.ratio);
  }
  const output = {
    machine: describeMachine({
      mode: args.quick ? 'quick' : 'full',
      rounds: settings.rounds,
      round_ms: settings.roundMs,
      warmup_ms: settings.warmupMs,
      concurrency: settings.concurrency,
      load_generator: 'undici, one process, mTLS with leaf + intermediate',
      databases: pgAvailable ? ['sqlite', 'postgres'] : ['sqlite'],
      duration_s: Math.round((Date.now() - began) / 1000),
    }),
    scenarios: rows,
    ...(notes.length ? { notes } : {}),
  };
  const problems = validateOutput(output);
  if (problems.length) throw new Error(`the results break the output contract:\n  ${problems.join('\n  ')}`);
  mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  writeFileSync(path.resolve(args.out), `${JSON.stringify(output, null, 2)}\n`);
  process.stdout.write(`${markdownTable(rows)}\n\nWrote ${path.relative(process.cwd(), path.resolve(args.out)) || args.out} in ${output.machine.duration_s} s.\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  for (const c of children) process.stderr.write(`--- last output of ${c.name} ---\n${c.output()}\n`);
  await Promise.all([...children].map((c) => c.stop(2000).catch(() => {})));
  process.exit(1);
});
