/**
 * The two ends of the harness ↔ child-process protocol. Every server and the load generator runs in a
 * process of its own (compiled JavaScript, forked with an IPC channel); a child exits by itself when the
 * harness asks it to stop or when the harness goes away (IPC disconnect), so nothing outlives a run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import path from 'node:path';
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
  const traceDir = process.env.BENCH_MEMORY_TRACE_DIR;
  if (traceDir && process.env.BENCH_TRACE_GC) child.stdout?.on('data', (chunk: Buffer) => appendFileSync(path.join(traceDir, `${options.name}.out`), chunk));
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  const ready = new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.name} did not become ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${tail}`)),
      options.readyTimeoutMs ?? 60_000,
    );
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
  const trace = memoryTrace();
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    trace?.();
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

/**
 * The TLS options of every benchmark server that takes client certificates (certbound's stand-ins, the
 * baselines, the resource servers): the bench server certificate, a client certificate asked for and its
 * chain checked by OpenSSL against the bench CA, the request answered either way (the server decides).
 */
export function mtlsServerOptions(): import('node:https').ServerOptions & { ca: string } {
  return {
    cert: readFileSync(requiredEnv('BENCH_TLS_CERT')),
    key: readFileSync(requiredEnv('BENCH_TLS_KEY')),
    ca: readFileSync(requiredEnv('BENCH_CLIENT_CA'), 'utf8'),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

/**
 * Diagnostics only (`BENCH_MEMORY_TRACE_DIR=dir`): samples the process's memory every 50 ms and, on stop,
 * writes `dir/<entry>-<pid>.json` with the sample taken at the highest RSS and the highest value seen of
 * every V8 heap space. Sampling allocates a little, so runs with it are not comparable to runs without.
 */
function memoryTrace(): (() => void) | undefined {
  const dir = process.env.BENCH_MEMORY_TRACE_DIR;
  if (!dir) return undefined;
  if (process.env.BENCH_TRACE_GC) setFlagsFromString('--trace-gc-nvp');
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  const sample = () => {
    const usage = process.memoryUsage();
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size), physical: mb(s.physical_space_size) }]),
    );
    const heapPhysical = getHeapSpaceStatistics().reduce((sum, s) => sum + s.physical_space_size, 0);
    const hs = getHeapStatistics();
    return {
      mallocedMemory: mb(hs.malloced_memory),
      peakMallocedMemory: mb(hs.peak_malloced_memory),
      externalMemory: mb(hs.external_memory),
      rss: mb(usage.rss),
      heapTotal: mb(usage.heapTotal),
      heapUsed: mb(usage.heapUsed),
      heapPhysical: mb(heapPhysical),
      external: mb(usage.external),
      arrayBuffers: mb(usage.arrayBuffers),
      nonHeap: mb(usage.rss - heapPhysical),
      spaces,
    };
  };
  // Resident memory by mapping (file path, [heap], [anon] …), MB, largest first.
  const smaps = () => {
    const byName = new Map<string, number>();
    let name = '';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (header) name = header[1] || '[anon]';
      else if (line.startsWith('Rss:')) byName.set(name, (byName.get(name) ?? 0) + Number(line.split(/\s+/)[1]) / 1024);
    }
    return Object.fromEntries(
      [...byName]
        .sort((a, b) => b[1] - a[1])
        .filter(([, v]) => v >= 0.2)
        .map(([k, v]) => [k, Math.round(v * 10) / 10]),
    );
  };
  let smapsIdle: Record<string, number> = {};
  setTimeout(() => (smapsIdle = smaps()), 500).unref();
  let atPeak = sample();
  const maxSpaces: Record<string, number> = {};
  const t0 = Date.now();
  const mallocSteps: [number, number][] = [[0, atPeak.peakMallocedMemory]];
  const timer = setInterval(() => {
    const s = sample();
    if (s.peakMallocedMemory > (mallocSteps.at(-1)?.[1] ?? 0) + 0.2) mallocSteps.push([Date.now() - t0, s.peakMallocedMemory]);
    if (s.rss > atPeak.rss) atPeak = s;
    for (const [name, v] of Object.entries(s.spaces)) maxSpaces[name] = Math.max(maxSpaces[name] ?? 0, v.physical);
  }, 50);
  timer.unref();
  return () => {
    clearInterval(timer);
    const file = path.join(dir, `${path.basename(process.argv[1] ?? 'child', '.js')}-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ atPeak, maxSpacesPhysical: maxSpaces, end: sample(), smapsIdle, smapsEnd: smaps(), mallocSteps }, null, 1));
  };
}
