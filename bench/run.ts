/**
 * `npm run bench [-- --quick] [--out FILE] [--only PREFIX,…] [--profile] [--heap-snapshots]`
 *
 * Measures certbound against the bare libraries in the same run: every server in a process
 * of its own, driven by a separate load-generator process over real mTLS, sides alternated round by
 * round (A B A B …, more sides rotated), medians of the rounds. Writes the results document (default
 * bench/results/latest.json) and prints the markdown table.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import { decodeJwt } from 'jose';
import { request, Agent } from 'undici';
import { type ChildHandle, forkChild } from './lib/child.js';
import { measureCli, staleDistNote } from './lib/cli.js';
import {
  ask,
  buildDir,
  bundleCertbound,
  CERTBOUND_ENTRY,
  certboundEnv,
  compileChildren,
  compiled,
  freePort,
  ISSUER_HOST,
  RS_ISSUER,
  root,
  verifierRsEnv,
} from './lib/processes.js';
import {
  type BenchDatabase,
  type BenchPki,
  clientId,
  clientSan,
  createBenchDatabase,
  createBenchPki,
  createEmptyDatabase,
  es256Jwk,
  mintCertboundRefreshTokens,
  RESOURCE,
  removeDir,
  SCOPES,
} from './lib/fixtures.js';
import { describeMachine, markdownTable, meets, targetOf, targetText } from './lib/report.js';
import { median, type RoundResult, ratio, round, type ScenarioResult, type SideSummary, summarizeRounds, validateOutput } from './lib/stats.js';
import { signTokens, type TokenUse } from './lib/tokens.js';
import type { ConnectionMode, RunMessage } from './loadgen.js';
import type { ClientLoopKind } from './servers/token-client.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(root, 'bench/results/latest.json') },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'heap-snapshots': { type: 'boolean', default: false },
    'pg-url': { type: 'string', default: process.env.CERTBOUND_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
  strict: true,
});

/**
 * Durations and sizes; --quick keeps the whole run under two minutes on 2 cores. Many short rounds
 * rather than a few long ones: on a shared machine the load of others changes within seconds, and
 * finely interleaved sides see the same conditions.
 */
const settings = args.quick
  ? { rounds: 6, roundMs: 500, warmupMs: 1000, concurrency: 16, scaleClients: 100_000, tokenPool: 10_000, rssRepeats: 1, cliRuns: 10, cliClients: 1000 }
  : { rounds: 12, roundMs: 2500, warmupMs: 3000, concurrency: 16, scaleClients: 100_000, tokenPool: 20_000, rssRepeats: 2, cliRuns: 30, cliClients: 1000 };

const only = args.only
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const wanted = (prefix: string) => !only || only.some((o) => prefix.startsWith(o) || o.startsWith(prefix));
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const profileDir = path.join(root, 'bench/results/profiles');
const profileArgs = (name: string) => (args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`] : []);

/** Issuer of the tokens of the verifier scenarios (signed by the harness, no AS involved). */
const TOKEN_FORM = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId(0), scope: SCOPES.join(' ') }).toString();

// ---------------------------------------------------------------------------------------------------
// Processes (built and started as bench/lib/processes.ts describes)

const children = new Set<ChildHandle>();
async function start(name: string, entry: string, env: Record<string, string>): Promise<ChildHandle> {
  const t0 = Date.now();
  const child = await forkChild({ name, entry: compiled(entry), env, execArgv: profileArgs(name) });
  log(`${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  children.add(child);
  return child;
}
async function stop(...list: ChildHandle[]): Promise<void> {
  await Promise.all(list.map((c) => c.stop()));
  for (const c of list) children.delete(c);
}

async function startCertbound(name: string, db: BenchDatabase, pki: BenchPki): Promise<ChildHandle> {
  return start(name, CERTBOUND_ENTRY, await certboundEnv(db, pki));
}

async function startBareOidc(pki: BenchPki, jwkFile: string, name = 'bare-oidc-provider'): Promise<ChildHandle> {
  const port = await freePort();
  return start(name, 'bench/baselines/oidc-provider.ts', {
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

/** Where a bare refresh provider keeps its grants and refresh tokens: oidc-provider's memory adapter, or a database through the simplest correct SQL adapter. */
type RefreshStore = 'memory' | DbKind;

/**
 * A bare oidc-provider of the refresh rows, keeping its grants and refresh tokens in `store` (a SQLite
 * file or a PostgreSQL database of its own, or memory); resolves with the refresh tokens it minted at
 * start-up (one per load-generator worker, and one for the probe).
 */
async function startBareOidcRefresh(pki: BenchPki, jwkFile: string, store: RefreshStore, location: string): Promise<{ child: ChildHandle; tokens: string[] }> {
  const port = await freePort();
  const tokensFile = path.join(pki.dir, `bare-refresh-tokens-${store}.json`);
  const child = await start(`bare-oidc-provider-refresh-${store}`, 'bench/baselines/oidc-provider-refresh.ts', {
    BENCH_PORT: String(port),
    BENCH_ISSUER: `https://${ISSUER_HOST}:${port}`,
    BENCH_RESOURCE: RESOURCE,
    BENCH_SCOPES: SCOPES.join(' '),
    BENCH_CLIENT: JSON.stringify({ clientId: clientId(0), sanDns: clientSan(0), thumbprint: pki.thumbprint(0) }),
    BENCH_SIGNING_JWK_FILE: jwkFile,
    BENCH_TLS_CERT: pki.files.serverCert,
    BENCH_TLS_KEY: pki.files.serverKey,
    BENCH_CLIENT_CA: pki.files.ca,
    BENCH_STORE: location,
    BENCH_REFRESH_TOKENS: String(settings.concurrency + 1),
    BENCH_REFRESH_TOKENS_FILE: tokensFile,
  });
  return { child, tokens: JSON.parse(readFileSync(tokensFile, 'utf8')) as string[] };
}

/** The refresh rows' request: the refresh_token grant of a tls_client_auth client; the load generator appends each chain's token. */
const REFRESH_FORM = new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId(0) }).toString();

// ---------------------------------------------------------------------------------------------------
// Load generator

/** Unset when only the client rows run: they need no load generator. */
let loadgen: ChildHandle | undefined;
function addTarget(name: string, port: number, mode: ConnectionMode, tls: { ca: string; cert: string; key: string }): void {
  loadgen!.process.send({ type: 'target', name, origin: `https://127.0.0.1:${port}`, mode, connections: settings.concurrency, tls });
}

interface Side {
  /** Load-generator target name (or a label for in-process loops). */
  target: string;
  /** The process serving it (CPU accounting). */
  server: ChildHandle;
  /** Over the network: what the load generator sends. */
  request?: Omit<RunMessage, 'type' | 'id' | 'target' | 'durationMs' | 'concurrency'>;
  /** In process: the server calls its own check function in a loop with these tokens. */
  loop?: TokenUse;
  /** In process: the client rows' process runs this call in a loop (bench/servers/token-client.ts). */
  loopKind?: ClientLoopKind;
}

async function runOnce(side: Side, durationMs: number): Promise<RoundResult & { firstError?: string }> {
  const cpu0 = side.server.cpuMs();
  const lg0 = loadgen?.cpuMs();
  const t0 = performance.now();
  const inProcess = side.loop !== undefined || side.loopKind !== undefined;
  const result = inProcess
    ? await ask<RoundResult & { firstError?: string }>(side.server, { type: 'loop', durationMs, concurrency: settings.concurrency, use: side.loop, kind: side.loopKind })
    : await ask<RoundResult & { firstError?: string }>(loadgen!, { type: 'run', target: side.target, durationMs, concurrency: settings.concurrency, ...side.request });
  const wall = performance.now() - t0;
  const cpu1 = side.server.cpuMs();
  const lg1 = loadgen?.cpuMs();
  if (cpu0 !== undefined && cpu1 !== undefined && (inProcess || (lg0 !== undefined && lg1 !== undefined))) {
    const ok = result.requests - result.errors;
    result.cpuMsPerRequest = ok ? (cpu1 - cpu0) / ok : undefined;
    result.serverCpuShare = (cpu1 - cpu0) / wall;
    if (!inProcess && lg0 !== undefined && lg1 !== undefined) result.loadgenCpuShare = (lg1 - lg0) / wall;
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
    log(
      `${label} round ${r + 1}/${settings.rounds}: ${sides.map((s, i) => `${s.target} ${Math.round(perSide[i]!.at(-1)!.rate)}/s (${perSide[i]!.at(-1)!.cpuMsPerRequest?.toFixed(3) ?? '?'} ms CPU/req, server ${perSide[i]!.at(-1)!.serverCpuShare?.toFixed(2) ?? '?'}${perSide[i]!.at(-1)!.loadgenCpuShare === undefined ? '' : `, load generator ${perSide[i]!.at(-1)!.loadgenCpuShare!.toFixed(2)}`} cores)`).join(', ')}`,
    );
  }
  return perSide.map(summarizeRounds);
}

const tokenSide = (target: string, server: ChildHandle): Side => ({
  target,
  server,
  request: { method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: TOKEN_FORM, expectStatus: 200 },
});

function row(
  scenario: string,
  unit: string,
  a: SideSummary,
  b: SideSummary,
  extra: Record<string, unknown> = {},
  rss?: { certbound?: number | undefined; baseline?: number | undefined },
): ScenarioResult {
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

/**
 * Two token requests on two connections through one https.Agent (which offers the first connection's
 * TLS session on the second): the second must resume the session and still get a token bound to the
 * client certificate. Returns whether the second connection was a resumed one.
 */
async function probeResumedToken(label: string, port: number, pki: BenchPki): Promise<boolean> {
  const agent = new HttpsAgent({ keepAlive: false, maxCachedSessions: 10, ...pki.clientTls(0), servername: 'localhost' });
  const once = () =>
    new Promise<{ status: number; body: string; resumed: boolean }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/token',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(TOKEN_FORM) },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, resumed: (res.socket as TLSSocket).isSessionReused() }));
        },
      );
      req.on('error', reject);
      req.end(TOKEN_FORM);
    });
  try {
    await once();
    // The TLS 1.3 session ticket arrives after the handshake; give the agent a moment to store it.
    await new Promise((r) => setTimeout(r, 100));
    const second = await once();
    if (second.status !== 200) throw new Error(`${label}: token request on a resumed TLS session answered ${second.status}: ${second.body}`);
    const claims = decodeJwt(String((JSON.parse(second.body) as { access_token?: string }).access_token)) as { cnf?: Record<string, string> };
    if (claims.cnf?.['x5t#S256'] !== pki.thumbprint(0)) throw new Error(`${label}: a token issued on a resumed TLS session is not bound to the client certificate`);
    return second.resumed;
  } finally {
    agent.destroy();
  }
}

/** Size of a certbound token response for this PKI's client (the static reply of the bare https server). */
async function tokenResponseBytes(pki: BenchPki): Promise<number> {
  const { privateJwk } = await es256Jwk();
  const [token] = await signTokens(1, privateJwk, {
    iss: 'https://localhost:65535',
    aud: RESOURCE,
    sub: clientId(0),
    client_id: clientId(0),
    scope: SCOPES.join(' '),
    cnf: { 'x5t#S256': pki.thumbprint(0) },
  });
  return JSON.stringify({ access_token: token, expires_in: 600, token_type: 'Bearer', scope: SCOPES.join(' ') }).length;
}

/** One token request over a fresh connection: 200 and a token bound to the client certificate. */
async function probeToken(label: string, port: number, pki: BenchPki): Promise<void> {
  const agent = new Agent({ connect: { ...pki.clientTls(0), servername: 'localhost' } });
  try {
    const res = await request(`https://127.0.0.1:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: TOKEN_FORM,
      dispatcher: agent,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${label}: token request answered ${res.statusCode}: ${text}`);
    const token = String((JSON.parse(text) as { access_token?: string }).access_token);
    const claims = decodeJwt(token) as { cnf?: Record<string, string>; aud?: unknown };
    if (claims.cnf?.['x5t#S256'] !== pki.thumbprint(0)) throw new Error(`${label}: the token is not bound to the client certificate`);
  } finally {
    await agent.close();
  }
}

/** One refresh over a fresh connection: 200, a rotated refresh token, and an access token bound to the client certificate. */
async function probeRefresh(label: string, port: number, pki: BenchPki, refreshToken: string): Promise<void> {
  const agent = new Agent({ connect: { ...pki.clientTls(0), servername: 'localhost' } });
  try {
    const res = await request(`https://127.0.0.1:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${REFRESH_FORM}&refresh_token=${encodeURIComponent(refreshToken)}`,
      dispatcher: agent,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${label}: refresh answered ${res.statusCode}: ${text}`);
    const body = JSON.parse(text) as { access_token?: string; refresh_token?: string };
    if (!body.refresh_token || body.refresh_token === refreshToken) throw new Error(`${label}: the refresh token was not rotated`);
    const claims = decodeJwt(String(body.access_token)) as { cnf?: Record<string, string>; aud?: unknown };
    if (claims.cnf?.['x5t#S256'] !== pki.thumbprint(0)) throw new Error(`${label}: the refreshed access token is not bound to the client certificate`);
    if (claims.aud !== RESOURCE) throw new Error(`${label}: the refreshed access token is not for ${RESOURCE}`);
  } finally {
    await agent.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Scenarios. Every process is started once, up front and in parallel (start-up under the tsx loader
// is the slowest part of a quick run); a process waits idle while other scenarios run.

const rows: ScenarioResult[] = [];
const notes: string[] = [];
/** RSS of every process once started, before any request: the part of peak RSS that is code and start-up state. */
const idleRss = new Map<ChildHandle, number | undefined>();
/** Live heap (MB after a full GC) of the issuance servers: after start-up, and after the keep-alive rounds. */
const liveHeap = { idle: new Map<ChildHandle, number>(), loaded: new Map<ChildHandle, number>() };
const heapDir = path.join(root, 'bench/results/heap');
async function measureLiveHeap(child: ChildHandle, when: 'idle' | 'loaded'): Promise<void> {
  const snapshot = args['heap-snapshots'] ? path.join(heapDir, `${child.name}-${when}.heapsnapshot`) : undefined;
  const { liveHeapMb } = await ask<{ liveHeapMb: number }>(child, { type: 'live-heap', ...(snapshot ? { snapshot } : {}) });
  liveHeap[when].set(child, liveHeapMb);
}
const mb = (v: number | undefined) => (v === undefined ? null : round(v, 1));

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

type DbKind = 'sqlite' | 'postgres';

interface Fleet {
  bareOidc?: ChildHandle;
  /** The refresh rows: the bare provider on each database and in memory, and certbound (each a database of its own), each with its refresh tokens. */
  bareOidcRefresh: Map<RefreshStore, { child: ChildHandle; tokens: string[] }>;
  certboundRefresh: Map<DbKind, { child: ChildHandle; tokens: string[] }>;
  bareHttps?: ChildHandle;
  /** certbound with 10 clients, by database. */
  certbound: Map<DbKind, ChildHandle>;
  /** certbound with 100 000 clients, and its twin with 10 clients (a process of its own, same history), by database. */
  certbound100k: Map<DbKind, ChildHandle>;
  certbound10: Map<DbKind, ChildHandle>;
  /** The database of `certbound` (10 clients), by kind: fresh processes for the equal-rate memory rows. */
  mainDb: Map<DbKind, BenchDatabase>;
  /** What the bare oidc-provider was started with (fresh processes for the equal-rate memory rows). */
  bareJwkFile?: string;
  verifierRs?: ChildHandle;
  joseRs?: ChildHandle;
  /** The verifier rows' ceiling: a bare https mTLS server with a fixed reply (baselines/static-resource-server.ts). */
  staticRs?: ChildHandle;
}

function rssRow(
  kind: DbKind,
  certbound: number,
  baseline: number,
  idle: { certbound: number | undefined; baseline: number | undefined; heap?: Record<string, number | null> },
): ScenarioResult {
  return {
    scenario: `rss-${kind}`,
    certbound: round(certbound, 1),
    baseline: round(baseline, 1),
    unit: 'MB',
    ratio: round(ratio(certbound, baseline), 3),
    p50_ms: null,
    p99_ms: null,
    peak_rss_mb: round(certbound, 1),
    baseline_peak_rss_mb: round(baseline, 1),
    certbound_idle_rss_mb: mb(idle.certbound),
    baseline_idle_rss_mb: mb(idle.baseline),
    ...(idle.heap ?? {}),
    note: 'peak RSS (VmHWM) of the server process after the keep-alive issuance rounds; idle = RSS after start-up, before any request',
  };
}

/** Scenario 1 (and 5): keep-alive issuance, certbound on SQLite and PostgreSQL vs bare oidc-provider; peak RSS. */
async function issuanceKeepalive(fleet: Fleet, pki: BenchPki): Promise<void> {
  const bare = fleet.bareOidc!;
  const servers = [bare, ...fleet.certbound.values()];
  for (const s of servers) addTarget(`${s.name}:keepalive`, s.ports.mtls!, 'keepalive', pki.clientTls(0));
  const [bareSummary, ...ours] = await alternate(
    'issuance-keepalive',
    servers.map((s) => tokenSide(`${s.name}:keepalive`, s)),
  );
  const bareRss = bare.peakRssMb();
  const peaks = new Map([...fleet.certbound].map(([kind, s]) => [kind, s.peakRssMb()]));
  [...fleet.certbound].forEach(([kind], i) => {
    rows.push(row(`issuance-keepalive-${kind}`, 'req/s', ours[i]!, bareSummary!, {}, { certbound: peaks.get(kind), baseline: bareRss }));
  });
  if (!wanted('rss')) return;
  for (const s of servers) await measureLiveHeap(s, 'loaded');
  const heapMb = (when: 'idle' | 'loaded', s: ChildHandle) => mb(liveHeap[when].get(s));
  const heap = (kind: DbKind) => {
    const server = fleet.certbound.get(kind)!;
    return {
      certbound_live_heap_idle_mb: heapMb('idle', server),
      baseline_live_heap_idle_mb: heapMb('idle', bare),
      certbound_live_heap_loaded_mb: heapMb('loaded', server),
      baseline_live_heap_loaded_mb: heapMb('loaded', bare),
    };
  };
  await rssRows(fleet, pki, { bare: bareRss, ours: peaks }, bareSummary!.rate, heap);
}

/** Peak RSS (VmHWM, MB) of the bare provider and of certbound on each database, from one set of processes. */
interface PeakSet {
  bare: number | undefined;
  ours: Map<DbKind, number | undefined>;
  rates?: { bare: number; ours: Map<DbKind, number> };
}

/**
 * Fresh processes (VmHWM is a lifetime high-water mark) of the bare provider and of certbound on each
 * database, through the same warm-up and alternated rounds of keep-alive issuance as scenario 1;
 * optionally capped at `rate` tokens per second on every side. Their peak RSS.
 */
async function freshPeakRss(fleet: Fleet, pki: BenchPki, label: string, rate?: number): Promise<PeakSet> {
  const bare = await startBareOidc(pki, fleet.bareJwkFile!, `bare-oidc-provider-${label}`);
  const ours = new Map<DbKind, ChildHandle>();
  for (const [kind, db] of fleet.mainDb) ours.set(kind, await startCertbound(`certbound-${kind}-${label}`, db, pki));
  try {
    for (const s of [bare, ...ours.values()]) {
      await probeToken(s.name, s.ports.mtls!, pki);
      addTarget(`${s.name}:keepalive`, s.ports.mtls!, 'keepalive', pki.clientTls(0));
    }
    const side = (s: ChildHandle): Side => {
      const plain = tokenSide(`${s.name}:keepalive`, s);
      return rate === undefined ? plain : { ...plain, request: { ...plain.request!, ratePerSec: Math.round(rate) } };
    };
    const [bareSummary, ...summaries] = await alternate(`rss-${label}`, [bare, ...ours.values()].map(side));
    return {
      bare: bare.peakRssMb(),
      ours: new Map([...ours].map(([kind, s]) => [kind, s.peakRssMb()])),
      rates: { bare: bareSummary!.rate, ours: new Map([...ours.keys()].map((kind, i) => [kind, summaries[i]!.rate])) },
    };
  } finally {
    await stop(bare, ...ours.values());
  }
}

/**
 * Scenario 5 rows. Peak RSS is one high-water mark per process, so it is measured on `rssRepeats` more
 * sets of fresh processes besides those of scenario 1, and the medians are compared. Then the
 * informational equal-rate rows: every side capped at 90 % of the bare provider's median rate, since at
 * full speed certbound issues more tokens per second (V8 promotes more objects per second and lets the
 * old generation grow further).
 */
async function rssRows(fleet: Fleet, pki: BenchPki, first: PeakSet, bareRate: number, heap: (kind: DbKind) => Record<string, number | null>): Promise<void> {
  const sets = [first];
  for (let r = 1; r <= settings.rssRepeats; r++) sets.push(await freshPeakRss(fleet, pki, `repeat-${r}`));
  const values = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
  const basePeaks = values(sets.map((s) => s.bare));
  for (const [kind, server] of fleet.certbound) {
    const ourPeaks = values(sets.map((s) => s.ours.get(kind)));
    if (!ourPeaks.length || !basePeaks.length) continue;
    rows.push({
      ...rssRow(kind, median(ourPeaks), median(basePeaks), { certbound: idleRss.get(server), baseline: idleRss.get(fleet.bareOidc!), heap: heap(kind) }),
      certbound_peaks_mb: ourPeaks.map((v) => round(v, 1)),
      baseline_peaks_mb: basePeaks.map((v) => round(v, 1)),
      note: `median peak RSS (VmHWM) of ${sets.length} sets of processes, each through the keep-alive issuance warm-up and rounds (scenario 1's, then ${settings.rssRepeats} fresh sets); idle = RSS after start-up, before any request`,
    });
  }
  const capped = await freshPeakRss(fleet, pki, 'equal-rate', 0.9 * bareRate);
  for (const [kind, rss] of capped.ours) {
    if (rss === undefined || capped.bare === undefined) continue;
    rows.push({
      ...rssRow(kind, rss, capped.bare, { certbound: undefined, baseline: undefined }),
      scenario: `rss-${kind}-equal-rate-info`,
      rate_req_s: { certbound: round(capped.rates!.ours.get(kind)!, 0), baseline: round(capped.rates!.bare, 0), cap: Math.round(0.9 * bareRate) },
      note: `peak RSS (VmHWM) of fresh processes serving the same keep-alive issuance load, capped at ${Math.round(0.9 * bareRate)} tokens/s (90 % of the bare provider's median rate)`,
    });
  }
}

/** Scenario 2: a new TLS connection per request, session resumption offered by the client (undici's session cache). */
/**
 * The refresh_token grant over keep-alive mTLS: certbound on SQLite and PostgreSQL, each against bare
 * oidc-provider keeping its refresh tokens in the same database through the simplest correct SQL adapter
 * (the target rows), and against bare oidc-provider's memory adapter (`-vs-memory-info`: no deployment
 * keeps refresh tokens there). All sides rotate the refresh token. Each load-generator worker is a client
 * holding one refresh token and refreshing with the one it got last, so every request reads, consumes and
 * writes a refresh token. One set of rounds, every side rotated.
 */
async function refreshKeepalive(fleet: Fleet, pki: BenchPki): Promise<void> {
  const bare = [...fleet.bareOidcRefresh];
  const ours = [...fleet.certboundRefresh];
  const servers = [...bare.map(([, s]) => s), ...ours.map(([, s]) => s)];
  for (const s of servers) {
    addTarget(`${s.child.name}:keepalive`, s.child.ports.mtls!, 'keepalive', pki.clientTls(0));
    await ask(loadgen!, { type: 'tokens', pool: s.child.name, tokens: s.tokens.slice(0, settings.concurrency) });
  }
  const summaries = await alternate(
    'refresh-keepalive',
    servers.map((s) => ({
      target: `${s.child.name}:keepalive`,
      server: s.child,
      request: {
        method: 'POST' as const,
        path: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: REFRESH_FORM,
        chain: { pool: s.child.name, param: 'refresh_token' },
        expectStatus: 200,
      },
    })),
  );
  const bareSummary = new Map(bare.map(([store], i) => [store, summaries[i]!]));
  ours.forEach(([kind], i) => {
    const mine = summaries[bare.length + i]!;
    const sameDb = bareSummary.get(kind);
    if (sameDb)
      rows.push(
        row(`refresh-keepalive-${kind}`, 'req/s', mine, sameDb, {
          baseline_kind: `bare oidc-provider, refresh tokens and grants in ${kind === 'sqlite' ? 'SQLite (WAL, synchronous=FULL, better-sqlite3)' : 'PostgreSQL (pg pool)'} through a one-table SQL adapter, one statement per adapter call (baselines/sql-adapter.ts)`,
        }),
      );
    const memory = bareSummary.get('memory');
    if (memory)
      rows.push(
        row(`refresh-keepalive-${kind}-vs-memory-info`, 'req/s', mine, memory, {
          baseline_kind: 'bare oidc-provider with its default memory adapter (development only: refresh tokens lost at every restart, not shared between replicas); no target',
        }),
      );
  });
}

async function issuanceFreshConnection(fleet: Fleet, pki: BenchPki): Promise<void> {
  const ours = fleet.certbound.get('sqlite')!;
  const bare = fleet.bareHttps!;
  const resumedAuthentication = await probeResumedToken(ours.name, ours.ports.mtls!, pki);
  if (!resumedAuthentication)
    notes.push('issuance-fresh-connection: the probe connection did not resume its TLS session; certbound authentication on resumed sessions was not checked.');
  addTarget('certbound-sqlite:fresh', ours.ports.mtls!, 'fresh', pki.clientTls(0));
  addTarget('bare-https:fresh', bare.ports.mtls!, 'fresh', pki.clientTls(0));
  addTarget('bare-https:fresh-full', bare.ports.mtls!, 'fresh-full', pki.clientTls(0));
  // Reference: bare oidc-provider under the same fresh, resumed connections shows how much of the gap
  // to a static reply is the cost of issuing a token at all.
  const reference = fleet.bareOidc;
  if (reference) addTarget('bare-oidc-provider:fresh', reference.ports.mtls!, 'fresh', pki.clientTls(0));
  const [cb, resumed, full, ref] = await alternate('issuance-fresh-connection', [
    tokenSide('certbound-sqlite:fresh', ours),
    tokenSide('bare-https:fresh', bare),
    tokenSide('bare-https:fresh-full', bare),
    ...(reference ? [tokenSide('bare-oidc-provider:fresh', reference)] : []),
  ]);
  const rss = { certbound: ours.peakRssMb(), baseline: bare.peakRssMb() };
  const resumption = (a: SideSummary, b: SideSummary) => ({
    certbound_resumed_fraction: round(a.resumedFraction ?? 0, 3),
    baseline_resumed_fraction: round(b.resumedFraction ?? 0, 3),
    resumed_session_authenticates: resumedAuthentication,
  });
  // The issue's baseline is the bare https server's fresh-connection rate (a full handshake per
  // request); resumption is what certbound's listener adds. The same-client comparison (both offered
  // resumption) is reported next to it, without a target.
  rows.push(
    row(
      'issuance-fresh-connection-sqlite',
      'req/s',
      cb!,
      full!,
      { ...resumption(cb!, full!), baseline_kind: 'bare https mTLS server, static reply of the same size, a full handshake for every request' },
      rss,
    ),
  );
  rows.push(
    row(
      'issuance-fresh-connection-sqlite-vs-resumed-info',
      'req/s',
      cb!,
      resumed!,
      { ...resumption(cb!, resumed!), baseline_kind: 'bare https mTLS server, static reply of the same size, the same client offering session resumption' },
      rss,
    ),
  );
  if (ref) {
    rows.push(
      row('issuance-fresh-connection-bare-oidc-provider-info', 'req/s', ref, full!, {
        ...resumption(ref, full!),
        subject: 'bare oidc-provider (the keep-alive baseline), NOT certbound: what any oidc-provider-based server reaches here',
        baseline_kind: 'bare https mTLS server, static reply of the same size, a full handshake for every request',
      }),
    );
  }
}

/**
 * Scenario 3: verifier vs bare jose.jwtVerify + thumbprint, unique tokens and tokens used 100 times;
 * over HTTPS (load generator → resource server) and in process (the check function alone). Reused
 * tokens over HTTPS are also run against the ceiling, a static reply on the same connection setup
 * (the three sides rotated in one set of rounds).
 */
async function verifier(fleet: Fleet, pki: BenchPki): Promise<void> {
  const ours = fleet.verifierRs!;
  const bare = fleet.joseRs!;
  const ceiling = fleet.staticRs;
  addTarget('verifier:keepalive', ours.ports.http!, 'keepalive', pki.clientTls(0));
  addTarget('jose:keepalive', bare.ports.http!, 'keepalive', pki.clientTls(0));
  if (ceiling) addTarget('static:keepalive', ceiling.ports.http!, 'keepalive', pki.clientTls(0));
  const https = (target: string, server: ChildHandle, use: TokenUse): Side => ({
    target,
    server,
    request: { method: 'GET', path: '/orders', bearer: { pool: 'rs', ...use }, expectStatus: 200 },
  });
  const inProcess = (target: string, server: ChildHandle, use: TokenUse): Side => ({ target, server, loop: use });
  const about = (use: TokenUse) => ({
    token_uses: use.reuse,
    tokens_in_use: use.active,
    token_pool: settings.tokenPool,
    ...(use.reuse === 1
      ? {
          token_note: `tokens sent in pool order from a pool of ${settings.tokenPool}, far beyond the verifier's default 1000-entry cache, so every verification misses the cache as a never-seen token would`,
        }
      : {}),
  });
  for (const [name, use] of [
    ['verifier-unique', { reuse: 1, active: 1 }],
    ['verifier-reused', { reuse: 100, active: 64 }],
  ] as const) {
    if (!wanted(name)) continue;
    const withCeiling = name === 'verifier-reused' && ceiling !== undefined;
    const [a, b, ceilingSummary] = await alternate(name, [
      https('verifier:keepalive', ours, use),
      https('jose:keepalive', bare, use),
      ...(withCeiling ? [https('static:keepalive', ceiling, use)] : []),
    ]);
    rows.push(
      row(name, 'req/s', a!, b!, { ...about(use), transport: 'HTTPS keep-alive with the client certificate' }, { certbound: ours.peakRssMb(), baseline: bare.peakRssMb() }),
    );
    if (withCeiling) {
      rows.push(
        row(
          `${name}-vs-static`,
          'req/s',
          a!,
          ceilingSummary!,
          {
            ...about(use),
            transport: 'HTTPS keep-alive with the client certificate',
            baseline_kind: 'bare https mTLS server with the same TLS options and client certificate, answering a fixed 200 reply (the ceiling of any resource server)',
          },
          { certbound: ours.peakRssMb(), baseline: ceiling.peakRssMb() },
        ),
      );
    }
    const [c, d] = await alternate(`${name}-inprocess`, [inProcess('verifier:loop', ours, use), inProcess('jose:loop', bare, use)]);
    rows.push(row(`${name}-inprocess`, 'verifications/s', c!, d!, { ...about(use), transport: 'none: the check function called in a loop inside the resource-server process' }));
  }
}

/** Scenario 4: issuance for one client of a 100 000-client database vs the same server with 10 clients. */
async function scale(fleet: Fleet, pki: BenchPki): Promise<void> {
  for (const [kind, big] of fleet.certbound100k) {
    const small = fleet.certbound10.get(kind)!;
    addTarget(`${big.name}:keepalive`, big.ports.mtls!, 'keepalive', pki.clientTls(0));
    addTarget(`${small.name}:keepalive`, small.ports.mtls!, 'keepalive', pki.clientTls(0));
    const [a, b] = await alternate(`scale-100k-clients-${kind}`, [tokenSide(`${big.name}:keepalive`, big), tokenSide(`${small.name}:keepalive`, small)]);
    rows.push(
      row(
        `scale-100k-clients-${kind}`,
        'req/s',
        a!,
        b!,
        { clients: settings.scaleClients, baseline_kind: `certbound-${kind} with 10 clients, a process of its own started with the 100k one` },
        { certbound: big.peakRssMb(), baseline: small.peakRssMb() },
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------------

/**
 * The CLI rows (bench/lib/cli.ts): `certbound --help`, and `certbound client list` on a SQLite
 * database of 1 000 clients, each against `node -e 0`. Run before any server starts, on a quiet machine.
 */
async function cli(): Promise<void> {
  const note = staleDistNote(root);
  if (note) notes.push(note);
  const pki = await createBenchPki([0]);
  const db = await createBenchDatabase({ kind: 'sqlite', clients: settings.cliClients, pki, pgAdminUrl: args['pg-url'] });
  try {
    const env = { CERTBOUND_DATABASE_URL: db.url, CERTBOUND_DATA_DIR: pki.dir };
    const scenarios = [
      {
        scenario: 'cli-help',
        args: ['--help'],
        env,
        check: (out: string) => (/^Commands:$/m.test(out) && out.includes('client ') ? undefined : `no command list in:\n${out}`),
        about: {},
      },
      {
        scenario: 'cli-client-list',
        args: ['client', 'list'],
        env,
        check: (out: string) => {
          const lines = out.trimEnd().split('\n');
          return lines.length === settings.cliClients + 1 && lines.at(-1)!.startsWith(clientId(settings.cliClients - 1))
            ? undefined
            : `expected a header and ${settings.cliClients} clients, got ${lines.length} lines`;
        },
        about: { clients: settings.cliClients, database: 'sqlite' },
      },
    ].filter((c) => wanted(c.scenario));
    rows.push(...measureCli(scenarios, { root, runs: settings.cliRuns, warmup: 2, log }));
  } finally {
    await db.drop();
    removeDir(pki.dir);
  }
}

/**
 * The client rows: `certbound/client` in a process of its own against a bare https mTLS server that
 * answers discovery, one bound token and a static API reply (bench/baselines/static-as-api.ts), each row
 * against its bare counterpart in the same process (bench/servers/token-client.ts), sides alternated
 * round by round. Run before the servers start, on a quieter machine; no database, no load generator.
 */
async function clientScenarios(): Promise<void> {
  compileOnce();
  const pki = await createBenchPki([0]);
  const started: ChildHandle[] = [];
  try {
    const tls = pki.clientTls(0);
    const chainFile = path.join(pki.dir, 'client-0-chain.pem');
    const keyFile = path.join(pki.dir, 'client-0.key');
    writeFileSync(chainFile, tls.cert);
    writeFileSync(keyFile, tls.key, { mode: 0o600 });
    const port = await freePort();
    const issuer = `https://${ISSUER_HOST}:${port}`;
    const { privateJwk } = await es256Jwk();
    const [accessToken] = await signTokens(1, privateJwk, {
      iss: issuer,
      aud: RESOURCE,
      sub: clientId(0),
      client_id: clientId(0),
      scope: SCOPES.join(' '),
      cnf: { 'x5t#S256': pki.thumbprint(0) },
    });
    const server = await start('static-as-api', 'bench/baselines/static-as-api.ts', {
      BENCH_PORT: String(port),
      BENCH_ACCESS_TOKEN: accessToken!,
      BENCH_SCOPES: SCOPES.join(' '),
      BENCH_TLS_CERT: pki.files.serverCert,
      BENCH_TLS_KEY: pki.files.serverKey,
      BENCH_CLIENT_CA: pki.files.ca,
    });
    started.push(server);
    const client = await start('token-client', 'bench/servers/token-client.ts', {
      BENCH_ISSUER: issuer,
      BENCH_RESOURCE: RESOURCE,
      BENCH_SCOPES: SCOPES.join(' '),
      BENCH_CLIENT_ID: clientId(0),
      BENCH_CLIENT_CA: pki.files.ca,
      BENCH_CLIENT_CHAIN: chainFile,
      BENCH_CLIENT_KEY: keyFile,
    });
    started.push(client);
    const side = (kind: ClientLoopKind): Side => ({ target: kind, server: client, loopKind: kind });
    const about = { cpu_process: "the client process (the *_cpu_ms_per_req and *_server_cpu_share members are its CPU, not the server's)" };
    if (wanted('client-fetch-cached')) {
      const [a, b] = await alternate('client-fetch-cached', [side('client-fetch'), side('undici-fetch')]);
      rows.push(
        row('client-fetch-cached', 'req/s', a!, b!, {
          ...about,
          transport: 'HTTPS keep-alive with the client certificate (leaf + intermediate) to a static-reply mTLS server',
          baseline_kind: "undici's fetch through an Agent holding the same certificate, with a fixed Authorization header",
        }),
      );
    }
    if (wanted('client-gettoken-cached-inprocess')) {
      const [c, d] = await alternate('client-gettoken-cached-inprocess', [side('client-gettoken'), side('map-get')]);
      rows.push(
        row('client-gettoken-cached-inprocess', 'calls/s', c!, d!, {
          ...about,
          transport: 'none: getToken on a cache hit, called in a loop',
          baseline_kind: 'Map.get of a key of the same shape (JSON of thumbprint, resource, sorted scopes); reported, no target',
        }),
      );
    }
  } finally {
    await stop(...started);
    removeDir(pki.dir);
  }
}

let compiledOnce = false;
/** Compiles the child processes once per run (the client rows and the servers share the build). */
function compileOnce(): void {
  if (compiledOnce) return;
  compiledOnce = true;
  const note = compileChildren(log);
  if (note) notes.push(note);
}

/** Every scenario but the CLI and client rows needs the servers, the load generator and the compiled processes. */
const SERVER_SCENARIOS = ['issuance-keepalive', 'rss', 'issuance-fresh-connection', 'refresh-keepalive', 'verifier-unique', 'verifier-reused', 'scale-100k-clients'];
const CLIENT_SCENARIOS = ['client-fetch-cached', 'client-gettoken-cached-inprocess'];

async function main(): Promise<void> {
  const began = Date.now();
  if (wanted('cli-help') || wanted('cli-client-list')) await cli();
  if (CLIENT_SCENARIOS.some(wanted)) await clientScenarios();
  if (!SERVER_SCENARIOS.some(wanted)) {
    // Nothing of a run stays in the tree but its results (the linter would read compiled files).
    if (compiledOnce) removeDir(buildDir);
    writeResults(['sqlite'], began);
    return;
  }
  if (args.profile) mkdirSync(profileDir, { recursive: true });
  const kinds: DbKind[] = ['sqlite'];
  if (await pgReachable(args['pg-url'])) kinds.push('postgres');
  else notes.push(`PostgreSQL at ${args['pg-url']} was not reachable: PostgreSQL scenarios skipped.`);
  const needFresh = wanted('issuance-fresh-connection');
  const needVerifier = wanted('verifier-unique') || wanted('verifier-reused');
  const needScale = wanted('scale-100k-clients');
  const needRefresh = wanted('refresh-keepalive');

  compileOnce();
  bundleCertbound(log);
  const pki = await createBenchPki([0]);
  const databases: BenchDatabase[] = [];
  /** The bare refresh providers' databases (their tables are their own, created at their start). */
  const emptyDatabases: { drop(): Promise<void> }[] = [];
  const fleet: Fleet = { certbound: new Map(), certbound100k: new Map(), certbound10: new Map(), mainDb: new Map(), certboundRefresh: new Map(), bareOidcRefresh: new Map() };
  try {
    // Processes that need no database start at once; the databases are built meanwhile (one after
    // the other: PostgreSQL serializes create database anyway) and each certbound starts when its
    // database is ready. Start-up under the tsx loader is the slowest part of a quick run.
    const { privateJwk } = await es256Jwk();
    const jwkFile = path.join(pki.dir, 'bare-oidc-jwk.json');
    writeFileSync(jwkFile, JSON.stringify(privateJwk), { mode: 0o600 });
    fleet.bareJwkFile = jwkFile;
    const verifierKeys = await es256Jwk();
    const jwksFile = path.join(pki.dir, 'rs-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [verifierKeys.publicJwk] }));
    const rsEnv = () => verifierRsEnv(pki, jwksFile);
    const t1 = Date.now();
    const starting: Promise<unknown>[] = [
      forkChild({ name: 'loadgen', entry: compiled('bench/loadgen.ts') }).then((c) => {
        loadgen = c;
        children.add(c);
      }),
    ];
    if (wanted('issuance-keepalive') || wanted('rss') || needFresh) starting.push(startBareOidc(pki, jwkFile).then((c) => (fleet.bareOidc = c)));
    if (needRefresh) starting.push(startBareOidcRefresh(pki, jwkFile, 'memory', 'memory').then((c) => fleet.bareOidcRefresh.set('memory', c)));
    if (needFresh) {
      const replyBytes = await tokenResponseBytes(pki);
      starting.push(
        (async () => {
          fleet.bareHttps = await start('bare-https', 'bench/baselines/https-static.ts', {
            BENCH_PORT: String(await freePort()),
            BENCH_REPLY_BYTES: String(replyBytes),
            BENCH_TLS_CERT: pki.files.serverCert,
            BENCH_TLS_KEY: pki.files.serverKey,
            BENCH_CLIENT_CA: pki.files.ca,
          });
        })(),
      );
    }
    if (needVerifier) {
      starting.push(
        (async () => {
          fleet.verifierRs = await start('verifier-rs', 'bench/servers/verifier-resource-server.ts', await rsEnv());
        })(),
        (async () => {
          fleet.joseRs = await start('jose-rs', 'bench/baselines/jose-resource-server.ts', await rsEnv());
        })(),
      );
      if (wanted('verifier-reused')) {
        starting.push(
          (async () => {
            fleet.staticRs = await start('static-rs', 'bench/baselines/static-resource-server.ts', { ...(await rsEnv()), BENCH_CLIENT_ID: clientId(0) });
          })(),
        );
      }
    }
    const wantedDatabases: { kind: DbKind; clients: number; role: 'main' | 'scale-big' | 'scale-small' | 'refresh' }[] = [];
    for (const kind of kinds) {
      if (wanted('issuance-keepalive') || wanted('rss') || (needFresh && kind === 'sqlite')) wantedDatabases.push({ kind, clients: 10, role: 'main' });
      if (needScale) wantedDatabases.push({ kind, clients: settings.scaleClients, role: 'scale-big' }, { kind, clients: 10, role: 'scale-small' });
      if (needRefresh) wantedDatabases.push({ kind, clients: 10, role: 'refresh' });
    }
    for (const { kind, clients, role } of wantedDatabases) {
      const t0 = Date.now();
      const db = await createBenchDatabase({ kind, clients, pki, pgAdminUrl: args['pg-url'] });
      databases.push(db);
      if (role === 'main') fleet.mainDb.set(kind, db);
      log(`database ${kind} with ${clients} clients ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (role === 'refresh') {
        const bareDb = await createEmptyDatabase(kind, args['pg-url']);
        emptyDatabases.push(bareDb);
        starting.push(startBareOidcRefresh(pki, jwkFile, kind, bareDb.url).then((c) => fleet.bareOidcRefresh.set(kind, c)));
        const tokens = await mintCertboundRefreshTokens(db, {
          clientId: clientId(0),
          sanDns: clientSan(0),
          resource: RESOURCE,
          scope: SCOPES.join(' '),
          thumbprint: pki.thumbprint(0),
          count: settings.concurrency + 1,
        });
        starting.push(startCertbound(`certbound-refresh-${kind}`, db, pki).then((child) => fleet.certboundRefresh.set(kind, { child, tokens })));
        continue;
      }
      const [name, into] =
        role === 'main'
          ? [`certbound-${kind}`, fleet.certbound]
          : role === 'scale-big'
            ? [`certbound-${kind}-100k`, fleet.certbound100k]
            : [`certbound-${kind}-10`, fleet.certbound10];
      starting.push(startCertbound(name, db, pki).then((c) => into.set(kind, c)));
    }
    const tokens = needVerifier
      ? signTokens(settings.tokenPool, verifierKeys.privateJwk, {
          iss: RS_ISSUER,
          aud: RESOURCE,
          sub: clientId(0),
          client_id: clientId(0),
          scope: SCOPES.join(' '),
          cnf: { 'x5t#S256': pki.thumbprint(0) },
        })
      : undefined;
    tokens?.catch(() => {}); // awaited below; keeps a failure from being reported as unhandled first
    await Promise.all(starting);
    log(`${children.size} processes ready in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    for (const c of children) idleRss.set(c, c.rssMb());
    if (args['heap-snapshots']) {
      mkdirSync(heapDir, { recursive: true });
      notes.push('--heap-snapshots: writing a snapshot takes memory, so the peak RSS figures of this run (rss rows) overstate both sides; the live-heap figures stand.');
    }
    if (wanted('rss')) for (const s of [fleet.bareOidc, ...fleet.certbound.values()]) if (s) await measureLiveHeap(s, 'idle');

    // Every token endpoint answers a real, bound token before anything is measured.
    for (const s of [fleet.bareOidc, ...fleet.certbound.values(), ...fleet.certbound100k.values(), ...fleet.certbound10.values()]) {
      if (s) await probeToken(s.name, s.ports.mtls!, pki);
    }
    // The last refresh token of each side is the probe's: a rotated, bound answer before anything is measured.
    for (const s of [...fleet.bareOidcRefresh.values(), ...fleet.certboundRefresh.values()]) {
      await probeRefresh(s.child.name, s.child.ports.mtls!, pki, s.tokens.at(-1)!);
    }
    if (tokens) {
      const pool = await tokens;
      for (const child of [loadgen!, fleet.verifierRs!, fleet.joseRs!]) await ask(child, { type: 'tokens', pool: 'rs', tokens: pool });
    }

    if (wanted('issuance-keepalive') || wanted('rss')) await issuanceKeepalive(fleet, pki);
    if (needFresh) await issuanceFreshConnection(fleet, pki);
    if (needRefresh) await refreshKeepalive(fleet, pki);
    if (needVerifier) await verifier(fleet, pki);
    if (needScale) await scale(fleet, pki);
  } finally {
    await stop(...children);
    for (const db of [...databases, ...emptyDatabases]) await db.drop().catch((err: unknown) => log(`could not drop a bench database: ${String(err)}`));
    removeDir(pki.dir);
    // Nothing of a run stays in the tree but its results (the linter would read compiled files).
    removeDir(buildDir);
  }
  writeResults(kinds, began);
}

/** Targets, the results document (checked against the output contract) and the table. */
function writeResults(kinds: DbKind[], began: number): void {
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
      load_generator: 'undici in its own process, mTLS with leaf + intermediate',
      databases: kinds,
      cli_runs: settings.cliRuns,
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
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  // A failed SQL statement carries the whole statement: keep the message readable.
  process.stderr.write(`bench failed: ${text.length > 4000 ? `${text.slice(0, 2000)} … ${text.slice(-1500)}` : text}\n`);
  for (const c of children) process.stderr.write(`--- last output of ${c.name} ---\n${c.output()}\n`);
  await Promise.all([...children].map((c) => c.stop(2000).catch(() => {})));
  process.exit(1);
});
