/**
 * The load generator, in its own process: undici over real mTLS (client certificate + intermediate),
 * a fixed number of workers each keeping one request in flight, for a fixed duration. The harness
 * sends it `target`, `tokens` and `run` messages; it answers each `run` with a RoundResult.
 *
 * Connection modes:
 * - `keepalive`: a pool of `concurrency` persistent connections.
 * - `fresh`: a new TCP + TLS connection for every request (`reset: true`), offering the last TLS
 *   session received, so the server may resume it (abbreviated handshake).
 * - `fresh-full`: the same without a session cache, so every request pays a full handshake.
 */
import { connect, type TLSSocket } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { percentileSorted, type RoundResult } from './lib/stats.js';
import { nextStart, type TokenUse, tokenIndex } from './lib/tokens.js';

export type ConnectionMode = 'keepalive' | 'fresh' | 'fresh-full';

export interface TargetMessage {
  type: 'target';
  name: string;
  origin: string;
  mode: ConnectionMode;
  connections: number;
  tls: { ca: string; cert: string; key: string };
}

export interface TokensMessage {
  type: 'tokens';
  id: number;
  pool: string;
  tokens: string[];
}

export interface RunMessage {
  type: 'run';
  id: number;
  target: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Bearer tokens from a pool (see tokens.ts tokenIndex). */
  bearer?: { pool: string } & TokenUse;
  /**
   * Refresh token chains, as clients refresh: worker i appends `param=<its current token>` to the body
   * and takes its next token from the 200 answer's `refresh_token` (rotated on every use). The pool
   * holds one token per worker and is updated in place, so the next run goes on with the chains.
   */
  chain?: { pool: string; param: string };
  concurrency: number;
  durationMs: number;
  expectStatus: number;
  /** Caps the total request rate (requests per second, all workers together); unset: as fast as answered. */
  ratePerSec?: number;
  /** Also return every successful request's latency (the soak pools them across windows). */
  returnLatencies?: boolean;
}

interface Target {
  agent: Agent;
  mode: ConnectionMode;
  origin: string;
  connects: number;
  resumed: number;
}

const targets = new Map<string, Target>();
const pools = new Map<string, string[]>();
/** Where the next request of a pool starts, so consecutive rounds never resend a token (unique mode). */
const poolCursor = new Map<string, number>();

function addTarget(m: TargetMessage): void {
  const target: Target = { origin: m.origin, mode: m.mode, connects: 0, resumed: 0, agent: undefined as unknown as Agent };
  // Our own connector rather than undici's: undici keeps TLS sessions through WeakRefs, so whether a
  // connection resumes would depend on the load generator's garbage collections. A client that wants
  // resumption keeps its latest session; `fresh` does exactly that, `fresh-full` never offers one.
  let session: Buffer | undefined;
  target.agent = new Agent({
    connections: m.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect(options, callback) {
      let done = false;
      const finish = (err: Error | null, socket: TLSSocket | null) => {
        if (done) return;
        done = true;
        callback(err as Error, socket as never);
      };
      const socket = connect({
        host: options.hostname,
        port: Number(options.port),
        servername: 'localhost',
        ca: m.tls.ca,
        cert: m.tls.cert,
        key: m.tls.key,
        ALPNProtocols: ['http/1.1'],
        ...(m.mode === 'fresh' && session ? { session } : {}),
      });
      socket.setNoDelay(true);
      if (m.mode === 'fresh') {
        socket.on('session', (s: Buffer) => {
          session = s;
        });
      }
      socket.once('secureConnect', () => {
        target.connects++;
        if (socket.isSessionReused()) target.resumed++;
        finish(null, socket);
      });
      socket.once('error', (err) => finish(err, null));
    },
  });
  targets.set(m.name, target);
}

/**
 * One request through undici's dispatcher, answered with its status code once the whole response
 * has arrived. The body is read and dropped as it streams in (no Readable stream, no header
 * parsing): the load generator shares the machine's cores with the server it measures, so the
 * less it spends per request, the more of the machine the faster side can use.
 */
function send(agent: Agent, options: Dispatcher.DispatchOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    agent.dispatch(options, {
      onConnect() {},
      onHeaders(statusCode: number) {
        status = statusCode;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        resolve(status);
      },
      onError(err: Error) {
        reject(err);
      },
    } as unknown as Dispatcher.DispatchHandler);
  });
}

/** {@link send}, also keeping the body (the refresh chains read the next token from it). */
function sendReading(agent: Agent, options: Dispatcher.DispatchOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    agent.dispatch(options, {
      onConnect() {},
      onHeaders(statusCode: number) {
        status = statusCode;
        return true;
      },
      onData(chunk: Buffer) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
      },
      onError(err: Error) {
        reject(err);
      },
    } as unknown as Dispatcher.DispatchHandler);
  });
}

async function run(m: RunMessage): Promise<RoundResult & { latenciesMs?: number[] }> {
  const target = targets.get(m.target);
  if (!target) throw new Error(`unknown target ${m.target}`);
  const pool = m.bearer ? pools.get(m.bearer.pool) : undefined;
  if (m.bearer && !pool) throw new Error(`unknown token pool ${m.bearer.pool}`);
  const start0 = pool ? (poolCursor.get(m.bearer!.pool) ?? 0) : 0;
  const chains = m.chain ? pools.get(m.chain.pool) : undefined;
  if (m.chain && (!chains || chains.length < m.concurrency)) throw new Error(`token pool ${m.chain.pool} holds fewer chains than the ${m.concurrency} workers`);
  const latencies = new Float64Array(4_000_000);
  let count = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let seq = 0;
  const connectsBefore = target.connects;
  const resumedBefore = target.resumed;
  const reset = target.mode !== 'keepalive';
  const started = performance.now();
  const deadline = started + m.durationMs;

  const tokenFor = (n: number): string => pool![tokenIndex(n, start0, m.bearer!, pool!.length)]!;

  async function worker(w: number): Promise<void> {
    while (performance.now() < deadline) {
      const n = seq++;
      if (m.ratePerSec) {
        // Request n is due at n / rate after the start (a schedule, so a slow answer is caught up on).
        const wait = started + (n / m.ratePerSec) * 1000 - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (performance.now() >= deadline) break;
      }
      const headers = { ...m.headers, ...(pool ? { authorization: `Bearer ${tokenFor(n)}` } : {}) };
      const body = chains ? `${m.body ?? ''}&${m.chain!.param}=${encodeURIComponent(chains[w]!)}` : (m.body ?? null);
      const t0 = performance.now();
      try {
        const options = { origin: target!.origin, path: m.path, method: m.method, headers, body, reset };
        let statusCode: number;
        if (chains) {
          const answer = await sendReading(target!.agent, options);
          statusCode = answer.status;
          if (statusCode === m.expectStatus) chains[w] = String((JSON.parse(answer.body) as { refresh_token?: unknown }).refresh_token);
        } else statusCode = await send(target!.agent, options);
        const t1 = performance.now();
        if (statusCode === m.expectStatus) {
          ok++;
          if (count < latencies.length) latencies[count++] = t1 - t0;
        } else {
          errors++;
          firstError ??= `status ${statusCode}`;
        }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  }

  await Promise.all(Array.from({ length: m.concurrency }, (_, w) => worker(w)));
  const elapsed = performance.now() - started;
  if (pool) poolCursor.set(m.bearer!.pool, nextStart(seq, start0, m.bearer!));
  const sorted = latencies.subarray(0, count).sort();
  const connects = target.connects - connectsBefore;
  return {
    rate: (ok / elapsed) * 1000,
    p50Ms: percentileSorted(sorted, 50),
    p99Ms: percentileSorted(sorted, 99),
    errors,
    requests: ok + errors,
    ...(reset ? { resumedFraction: connects ? (target.resumed - resumedBefore) / connects : 0 } : {}),
    ...(firstError ? { firstError } : {}),
    ...(m.returnLatencies ? { latenciesMs: Array.from(sorted) } : {}),
  };
}

process.on('message', (message: unknown) => {
  const m = message as TargetMessage | TokensMessage | RunMessage | { type: 'stop' };
  if (m.type === 'target') addTarget(m);
  else if (m.type === 'tokens') {
    pools.set(m.pool, m.tokens);
    poolCursor.set(m.pool, 0);
    process.send?.({ type: 'done', id: m.id });
  } else if (m.type === 'run') {
    run(m).then(
      (result) => process.send?.({ type: 'done', id: m.id, result }),
      (err: Error) => process.send?.({ type: 'done', id: m.id, error: err.message }),
    );
  } else if (m.type === 'stop') shutdown();
});

let stopping = false;
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  Promise.all([...targets.values()].map((t) => t.agent.close().catch(() => {}))).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('disconnect', shutdown);
process.send?.({ type: 'ready', ports: {} });
