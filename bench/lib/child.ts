/**
 * The two ends of the harness ↔ child-process protocol. Every server and the load generator runs in a
 * process of its own (compiled JavaScript, forked with an IPC channel); a child exits by itself when the
 * harness asks it to stop or when the harness goes away (IPC disconnect), so nothing outlives a run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface ReadyMessage {
  type: 'ready';
  /** Named ports the child listens on, e.g. `{ mtls: 41234 }`. */
  ports: Record<string, number>;
}

export interface ChildHandle {
  name: string;
  process: ChildProcess;
  ports: Record<string, number>;
  /** Last lines the child wrote (for failure reports). */
  output(): string;
  /** Peak resident set size so far (VmHWM), MB; undefined where /proc is not available. */
  peakRssMb(): number | undefined;
  /** Current resident set size (VmRSS), MB. */
  rssMb(): number | undefined;
  /** CPU time used so far (user + system), ms; undefined where /proc is not available. */
  cpuMs(): number | undefined;
  /** Asks the child to stop; SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | undefined {
  if (!pid) return undefined;
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, ms (Linux reports clock ticks of 1/100 s to unprivileged readers). */
function procCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export interface ForkOptions {
  name: string;
  /** Absolute path of the entry point: compiled JavaScript, or TypeScript with `tsx: true`. */
  entry: string;
  /** Load the entry through the tsx loader (development only: it adds memory and start-up time). */
  tsx?: boolean;
  env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof --cpu-prof-dir=…`. */
  execArgv?: string[];
  /** How long the child may take to report ready. */
  readyTimeoutMs?: number;
}

/** Forks a child and waits for its `ready` message. */
export async function forkChild(options: ForkOptions): Promise<ChildHandle> {
  const child = fork(options.entry, [], {
    execArgv: [...(options.tsx ? ['--import', 'tsx'] : []), ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  const ready = new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name} did not become ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${tail}`)), options.readyTimeoutMs ?? 60_000);
    child.on('message', (m: unknown) => {
      if ((m as ReadyMessage)?.type === 'ready') {
        clearTimeout(timer);
        resolve(m as ReadyMessage);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited before it was ready (code ${code}, signal ${signal}):\n${tail}`));
    });
  });
  let message: ReadyMessage;
  try {
    message = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid;
  return {
    name: options.name,
    process: child,
    ports: message.ports,
    output: () => tail,
    peakRssMb: () => procStatusMb(pid, 'VmHWM'),
    rssMb: () => procStatusMb(pid, 'VmRSS'),
    cpuMs: () => procCpuMs(pid),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Child side: reports ready and runs `stop` when asked (or when the harness disappears), then exits.
 * `--cpu-prof` profiles are written on this normal exit.
 */
export function serveAsChild(ports: Record<string, number>, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    stop()
      .catch((err: unknown) => process.stderr.write(`stop failed: ${String(err)}\n`))
      .finally(() => process.exit(0));
  };
  process.on('message', (m: unknown) => {
    const message = m as { type?: string; id?: number; snapshot?: string };
    if (message?.type === 'stop') shutdown();
    else if (message?.type === 'live-heap') {
      const result = liveHeap(message.snapshot);
      process.send?.({ type: 'done', id: message.id, result });
    }
  });
  process.on('disconnect', shutdown);
  process.send?.({ type: 'ready', ports } satisfies ReadyMessage);
}

/**
 * The live heap: heap used right after a full garbage collection, MB (V8's old generation grows to a
 * multiple of it before the next full collection, so it drives peak memory). Optionally writes a heap
 * snapshot (Chrome DevTools → Memory) to `snapshot`.
 */
function liveHeap(snapshot: string | undefined): { liveHeapMb: number; snapshot?: string } {
  // --expose-gc set at run time: the flag only makes `gc` available to newly created contexts.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const liveHeapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  if (snapshot) writeHeapSnapshot(snapshot);
  return { liveHeapMb, ...(snapshot ? { snapshot } : {}) };
}

/** Reads a required environment variable of a child (the harness sets them all). */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bench child: ${name} is not set`);
  return value;
}
