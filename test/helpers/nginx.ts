/**
 * A real nginx (the Debian package) for the proxy tests: installed when missing, configured from exactly
 * `config/nginx/certbound.conf.template` (the file the README documents and docker-compose.yml mounts),
 * started in the foreground as a child process with its own prefix, pid, log and temp directories under a
 * temporary directory, and stopped by `stop()` (also when the test process exits).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The template the tests render; docker-compose.yml must mount this same file. */
export const NGINX_TEMPLATE = 'config/nginx/certbound.conf.template';

/** Placeholders of the template (see its header comment). */
export const NGINX_TEMPLATE_VARIABLES = [
  'NGINX_LISTEN_ISSUER',
  'NGINX_LISTEN_MTLS',
  'NGINX_LISTEN_API',
  'NGINX_TLS_CERT',
  'NGINX_TLS_KEY',
  'NGINX_CLIENT_CA',
  'NGINX_VERIFY_CLIENT',
  'NGINX_PROXY_BIND',
  'NGINX_UPSTREAM_CA',
  'NGINX_UPSTREAM_NAME',
  'NGINX_AS_MAIN_1',
  'NGINX_AS_MAIN_2',
  'NGINX_AS_MTLS_1',
  'NGINX_AS_MTLS_2',
  'NGINX_API_UPSTREAM',
] as const;
export type NginxVariables = Record<(typeof NGINX_TEMPLATE_VARIABLES)[number], string>;

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The nginx binary; installs the Debian package when it is missing (as .ci/run does). */
export function ensureNginx(): string {
  const found = which('nginx') ?? which('/usr/sbin/nginx');
  if (found) return found;
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx'], { stdio: 'ignore', timeout: 600_000 });
  const installed = which('nginx') ?? which('/usr/sbin/nginx');
  if (!installed) throw new Error('nginx is not installed and `apt-get install -y nginx` did not provide it');
  return installed;
}

/** Fills the `${NGINX_*}` placeholders (envsubst semantics: nginx's own `$variables` are left alone). */
export function renderNginxTemplate(vars: NginxVariables, template = readFileSync(NGINX_TEMPLATE, 'utf8')): string {
  const rendered = template.replace(/\$\{(NGINX_[A-Z0-9_]+)\}/g, (whole, name: string) => {
    const value = (vars as Record<string, string>)[name];
    if (value === undefined) throw new Error(`no value for ${whole} in ${NGINX_TEMPLATE}`);
    return value;
  });
  return rendered;
}

export interface RunningNginx {
  dir: string;
  /** nginx's error log so far (startup errors, upstream failures). */
  errorLog(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function waitForPort(port: number, host: string, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${host}:${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Renders the template with `vars`, starts nginx in the foreground and waits until it listens. */
export async function startNginx(vars: NginxVariables): Promise<RunningNginx> {
  const binary = ensureNginx();
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-nginx-'));
  // Workers drop privileges when nginx runs as root: they must reach the temp directories.
  chmodSync(dir, 0o755);
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(path.join(dir, sub));
    chmodSync(path.join(dir, sub), 0o777);
  }
  writeFileSync(path.join(dir, 'certbound.conf'), renderNginxTemplate(vars));
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${dir}/access.log;`,
      `  client_body_temp_path ${dir}/client_body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      `  include ${dir}/certbound.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return readFileSync(path.join(dir, 'error.log'), 'utf8') + stderr;
    } catch {
      return stderr;
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 10_000;
    const ports = [vars.NGINX_LISTEN_ISSUER, vars.NGINX_LISTEN_MTLS, vars.NGINX_LISTEN_API].map((l) => {
      const [host, port] = l.includes(':') ? [l.slice(0, l.lastIndexOf(':')), l.slice(l.lastIndexOf(':') + 1)] : ['127.0.0.1', l];
      return { host, port: Number(port) };
    });
    await Promise.race([
      Promise.all(ports.map((p) => waitForPort(p.port, p.host, deadline))),
      exited.then(() => {
        throw new Error(`nginx exited at start:\n${errorLog()}`);
      }),
    ]);
  } catch (err) {
    const log = errorLog();
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return { dir, errorLog, stop };
}
