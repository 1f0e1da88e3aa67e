/**
 * `certbound serve` as a child process (from the sources, as an operator runs it), with every line it
 * writes to stdout and stderr kept, so that a fault test sees exactly what an operator's log collector
 * would: a raw stack trace on stderr is a line like any other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/net.js';
import type { TestPki } from '../helpers/pki.js';

export interface ServerProcess {
  child: ChildProcess;
  mainUrl: string;
  mtlsUrl: string;
  /** Every line written to stdout and stderr so far, in order. */
  lines: { stream: 'stdout' | 'stderr'; text: string }[];
  stop(): Promise<void>;
}

export async function startServerProcess(pki: TestPki, databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-serve-'));
  writeFileSync(path.join(dir, 'server.pem'), pki.server.pem + pki.intermediate.pem);
  writeFileSync(path.join(dir, 'server.key'), pki.server.keyPem);
  const [port, mtlsPort] = [await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    CERTBOUND_ENV: 'production',
    CERTBOUND_TLS_CERT: path.join(dir, 'server.pem'),
    CERTBOUND_TLS_KEY: path.join(dir, 'server.key'),
    CERTBOUND_ISSUER: `https://localhost:${port}`,
    CERTBOUND_MTLS_URL: `https://localhost:${mtlsPort}`,
    CERTBOUND_PORT: String(port),
    CERTBOUND_MTLS_PORT: String(mtlsPort),
    CERTBOUND_HOST: '127.0.0.1',
    CERTBOUND_DATABASE_URL: databaseUrl,
    CERTBOUND_DATA_DIR: dir,
    CERTBOUND_LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: ServerProcess['lines'] = [];
  let listening: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const text of parts) {
        lines.push({ stream, text });
        if (text.includes('certbound is listening')) listening();
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 45_000).unref());
  const outcome = await Promise.race([ready.then(() => 'ready' as const), exited.then(() => 'exited' as const), timeout]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`certbound serve did not start (${outcome}):\n${lines.map((l) => l.text).join('\n')}`);
  }
  return {
    child,
    mainUrl: `https://127.0.0.1:${port}`,
    mtlsUrl: `https://127.0.0.1:${mtlsPort}`,
    lines,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref())]);
        if (!done) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
