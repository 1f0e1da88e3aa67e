/**
 * The client rows' process: `certbound/client` and its bare counterparts, side by side in one process
 * (the same undici, the same certificate, the same server), each run in a loop when the harness asks:
 * - `client-fetch`: `client.fetch` with a cached token; `undici-fetch`: undici's `fetch` through an Agent
 *   holding the same certificate, with a fixed `Authorization` header;
 * - `client-gettoken`: `getToken` on a cache hit; `map-get`: `Map.get` of a key of the same shape
 *   (JSON of thumbprint, resource and sorted scopes).
 * Every reply body is read, so both fetch sides finish the same work per request.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { createTokenClient } from '../../src/client/index.js';
import { requiredEnv, serveAsChild } from '../lib/child.js';
import { percentileSorted, type RoundResult } from '../lib/stats.js';

export type ClientLoopKind = 'client-fetch' | 'undici-fetch' | 'client-gettoken' | 'map-get';

const issuer = requiredEnv('BENCH_ISSUER');
const resource = requiredEnv('BENCH_RESOURCE');
const scope = requiredEnv('BENCH_SCOPES');
const ca = readFileSync(requiredEnv('BENCH_CLIENT_CA'), 'utf8');
const cert = readFileSync(requiredEnv('BENCH_CLIENT_CHAIN'), 'utf8');
const key = readFileSync(requiredEnv('BENCH_CLIENT_KEY'), 'utf8');
const apiUrl = `${issuer}/orders`;

const client = createTokenClient({ issuer, clientId: requiredEnv('BENCH_CLIENT_ID'), credentials: { cert, key }, tls: { ca } });
// Fills the cache (and checks the binding) before anything is measured; the bare side sends this token.
const token = await client.getToken({ resource, scope });
const bareAgent = new Agent({ connect: { ca, cert, key } });
const authorization = `Bearer ${token.accessToken}`;
const cache = new Map([[JSON.stringify([token.thumbprint, resource, scope.split(' ').sort()]), token]]);
const sortedScopes = scope.split(' ').sort();

async function expectOk(res: { status: number; text(): Promise<string> }, side: string): Promise<void> {
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${side}: ${apiUrl} answered ${res.status}: ${body}`);
}

const calls: Record<ClientLoopKind, () => Promise<unknown>> = {
  'client-fetch': async () => expectOk(await client.fetch(apiUrl, { resource, scope }), 'client.fetch'),
  'undici-fetch': async () => expectOk(await undiciFetch(apiUrl, { headers: { authorization }, dispatcher: bareAgent }), 'undici fetch'),
  'client-gettoken': () => client.getToken({ resource, scope }),
  'map-get': async () => cache.get(JSON.stringify([token.thumbprint, resource, sortedScopes])),
};

async function loop(kind: ClientLoopKind, durationMs: number, concurrency: number): Promise<RoundResult & { firstError?: string }> {
  const call = calls[kind];
  const latencies = new Float64Array(8_000_000);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const began = performance.now();
  const deadline = began + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        if ((await call()) === undefined && kind === 'map-get') throw new Error('Map.get missed');
        if (count < latencies.length) latencies[count++] = performance.now() - t0;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - began;
  const sorted = latencies.subarray(0, count).sort();
  return {
    rate: (count / elapsed) * 1000,
    p50Ms: percentileSorted(sorted, 50),
    p99Ms: percentileSorted(sorted, 99),
    errors,
    requests: count + errors,
    ...(firstError ? { firstError } : {}),
  };
}

process.on('message', (message: unknown) => {
  const m = message as { type?: string; id?: number; kind?: ClientLoopKind; durationMs?: number; concurrency?: number };
  if (m.type !== 'loop') return;
  loop(m.kind!, m.durationMs!, m.concurrency!).then(
    (result) => process.send?.({ type: 'done', id: m.id, result }),
    (err: Error) => process.send?.({ type: 'done', id: m.id, error: err.message }),
  );
});

serveAsChild({}, async () => {
  await client.close();
  await bareAgent.close();
});
