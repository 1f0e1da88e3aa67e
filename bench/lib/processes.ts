/**
 * Building and starting the processes of a benchmark run, shared by run.ts (the ratios) and soak.ts
 * (the long run): the children run compiled JavaScript, certbound runs from the same esbuild bundle as
 * `certbound serve`, and every child speaks the protocol of child.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildHandle } from './child.js';
import { type BenchDatabase, type BenchPki, RESOURCE } from './fixtures.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = path.join(root, 'bench/.build');
export const CERTBOUND_ENTRY = 'bench/servers/certbound.ts';
export const ISSUER_HOST = 'localhost';

/**
 * The children run compiled JavaScript, as `certbound serve` runs dist/: the sources (src/, bench/,
 * the PKI helper) are compiled once per run into bench/.build. Under the tsx loader every TypeScript
 * module would carry its transform and source map in memory and slow start-up, which would count
 * against certbound (hundreds of modules) far more than against the baselines (plain JS packages).
 * Returns a note when tsc reported type errors (it emits anyway and the run goes on).
 */
export function compileChildren(log: (line: string) => void): string | undefined {
  const t0 = Date.now();
  rmSync(buildDir, { recursive: true, force: true });
  const result = spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', path.join(root, 'bench/tsconfig.json')], { encoding: 'utf8' });
  if (!existsSync(path.join(buildDir, 'bench/servers/certbound.js'))) throw new Error(`compiling the benchmark processes failed:\n${result.stdout}${result.stderr}`);
  log(`compiled the benchmark processes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (result.status !== 0)
    return `tsc reported type errors while compiling the benchmark processes (the compiled code was used):\n${result.stdout.split('\n').slice(0, 10).join('\n')}`;
  return undefined;
}

/**
 * certbound runs as `certbound serve` runs it: bundled by scripts/build-server.mjs (what `npm run build`
 * writes to dist/server/), with the benchmark's entry point as one more entry of the same bundle.
 */
export function bundleCertbound(log: (line: string) => void): void {
  const t0 = Date.now();
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'scripts/build-server.mjs'), '--outdir', path.join(buildDir, 'server'), '--entry', path.join(root, CERTBOUND_ENTRY)],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`bundling certbound failed:\n${result.stdout}${result.stderr}`);
  log(`bundled certbound in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** The compiled file of a child's TypeScript entry point. */
export const compiled = (entry: string): string => (entry === CERTBOUND_ENTRY ? path.join(buildDir, 'server/certbound.js') : path.join(buildDir, entry.replace(/\.ts$/, '.js')));

const handedOut = new Set<number>();
/** A loopback port that was free a moment ago and that this run has not handed out before. */
export async function freePort(): Promise<number> {
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

/** The CERTBOUND_* environment of a certbound child serving `db` with the PKI's server certificate. */
export async function certboundEnv(db: BenchDatabase, pki: BenchPki): Promise<Record<string, string>> {
  const [port, mtlsPort] = [await freePort(), await freePort()];
  return {
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
  };
}

/** The issuer of the tokens the verifier resource servers accept (signed by the bench, not by certbound). */
export const RS_ISSUER = 'https://as.bench.test';

/** The BENCH_* environment of a resource server using certbound/verifier (servers/verifier-resource-server.ts). */
export async function verifierRsEnv(pki: BenchPki, jwksFile: string): Promise<Record<string, string>> {
  return {
    BENCH_PORT: String(await freePort()),
    BENCH_TLS_CERT: pki.files.serverCert,
    BENCH_TLS_KEY: pki.files.serverKey,
    BENCH_CLIENT_CA: pki.files.ca,
    BENCH_JWKS_FILE: jwksFile,
    BENCH_ISSUER: RS_ISSUER,
    BENCH_RESOURCE: RESOURCE,
    BENCH_CLIENT_CERT: pki.clientCertFile(0),
  };
}

let nextId = 1;
/** Sends a message with a fresh id to a child and resolves with its `done` answer. */
export function ask<T>(child: ChildHandle, message: Record<string, unknown>): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string; id?: number; result?: T; error?: string }) => {
      if (m?.type !== 'done' || m.id !== id) return;
      child.process.off('message', onMessage);
      child.process.off('exit', onExit);
      if (m.error) reject(new Error(m.error));
      else resolve(m.result as T);
    };
    const onExit = () => reject(new Error(`${child.name} exited while answering:\n${child.output()}`));
    child.process.on('message', onMessage);
    child.process.once('exit', onExit);
    child.process.send({ ...message, id });
  });
}
