/**
 * A PostgreSQL server of the test's own (never the shared one on 5432), so that a test may kill it
 * (SIGKILL), freeze it (SIGSTOP) and bring it back: initdb into a temporary directory owned by the
 * `postgres` OS user (initdb refuses to run as root), `postgres` on a free loopback port. Everything is
 * removed by `destroy()`, and the processes are killed when the test process exits in any way.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

/** The directory of the newest installed PostgreSQL's binaries, or undefined when none is installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')) && existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function idOf(flag: '-u' | '-g', user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

/** Pids of every process below `pid` (from /proc), children first found first. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

export interface PrivatePostgres {
  /** postgres://…/certbound on 127.0.0.1:<port>. */
  url: string;
  port: number;
  /** SIGKILL to the postmaster and every backend: an abrupt crash. Resolves when they are gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and port; resolves when it accepts queries. */
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT to the processes `freeze` stopped. */
  thaw(): void;
  /** Kills the server and removes its directory. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/*/bin');
  const uid = idOf('-u', 'postgres');
  const gid = idOf('-g', 'postgres');
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-private-pg-'));
  chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  let child: ChildProcess | undefined;
  let frozen: number[] = [];
  const pidsOfServer = () => (child?.pid ? [child.pid, ...descendantsOf(child.pid)] : []);
  // Whatever happens to the test process, the server does not outlive it.
  const onExit = () => signal(pidsOfServer(), 'SIGKILL');
  process.on('exit', onExit);

  execFileSync(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], {
    uid,
    gid,
    cwd: dir,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', LANG: 'C' },
  });

  const start = async () => {
    child = spawn(
      path.join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=50',
      ],
      { uid, gid, cwd: dir, stdio: 'ignore', env: { PATH: process.env.PATH ?? '', LANG: 'C' } },
    );
    // Ready when a query answers (bounded: a slow machine recovering after a crash may take seconds).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('select 1');
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => {});
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the private PostgreSQL on port ${port} did not start: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const kill = async () => {
    const pids = pidsOfServer();
    signal(pids, 'SIGKILL');
    // SIGKILLed processes are gone once /proc no longer lists them (the postmaster is our child: reaped by Node).
    const deadline = Date.now() + 10_000;
    while (pids.some((p) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child = undefined;
  };

  try {
    await start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query('create database certbound');
    await admin.end();
  } catch (err) {
    await kill();
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/certbound`,
    port,
    kill,
    start,
    freeze() {
      frozen = pidsOfServer();
      signal(frozen, 'SIGSTOP');
    },
    thaw() {
      signal(frozen, 'SIGCONT');
      frozen = [];
    },
    async destroy() {
      signal(frozen, 'SIGCONT');
      await kill();
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
