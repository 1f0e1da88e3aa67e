/**
 * loadConfigIsolated (what `certbound serve` uses): the configuration validated in a short-lived child process
 * gives the same frozen result and the same errors as loadConfig in process, and the calling thread
 * never loads the validator.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { loadConfigIsolated } from '../../src/config/isolated.js';
import { ConfigError } from '../../src/errors/index.js';

describe('loadConfigIsolated', () => {
  it('gives what loadConfig gives: file + environment, a Buffer key, the proxy settings, frozen', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-isolated-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'port: 9000\nmtlsPort: 9001\nlogLevel: warn\n');
    const env = {
      CERTBOUND_CONFIG: file,
      CERTBOUND_PORT: '9100',
      CERTBOUND_KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
      CERTBOUND_TRUSTED_PROXIES: '127.0.0.2, 10.0.0.0/8',
      CERTBOUND_CLIENT_CERT_HEADER: 'nginx',
    };
    const isolated = await loadConfigIsolated({ env });
    expect(isolated).toEqual(loadConfig({ env }));
    expect(Buffer.isBuffer(isolated.keyEncryptionKey)).toBe(true);
    expect(isolated.port).toBe(9100);
    expect(isolated.proxy?.trustedProxies).toEqual(['127.0.0.2', '10.0.0.0/8']);
    for (const part of [isolated, isolated.database, isolated.proxy, isolated.proxy?.trustedProxies]) expect(Object.isFrozen(part)).toBe(true);
  });

  it('a bad value is the same ConfigError, with its message and hint', async () => {
    const env = { CERTBOUND_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' };
    let inProcess: ConfigError | undefined;
    try {
      loadConfig({ env });
    } catch (err) {
      inProcess = err as ConfigError;
    }
    const isolated = await loadConfigIsolated({ env }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isolated).toBeInstanceOf(ConfigError);
    expect((isolated as ConfigError).message).toBe(inProcess!.message);
    expect((isolated as ConfigError).hint).toBe(inProcess!.hint);
    expect((isolated as ConfigError).explain()).toMatch(/32 bytes/);
  });

  it('`certbound serve` with a bad setting exits with the error, as the full CLI does', async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, CERTBOUND_PORT: 'eighty' } }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
    const [lean, full] = await Promise.all([run(['serve']), run(['migrate'])]);
    expect(lean.code).toBe(1);
    expect(lean.stderr).toMatch(/^error: Invalid configuration/);
    expect(lean.stderr).toContain('CERTBOUND_PORT: "eighty" is not valid');
    // the same words as any other command, which loads the configuration in process
    expect(lean).toEqual(full);
  });

  it('the calling thread does not load zod', async () => {
    const probe = `
      const { registerHooks } = await import('node:module');
      const loaded = [];
      registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); loaded.push(r.url); return r; } });
      const { loadConfigIsolated } = await import('./src/config/isolated.ts');
      const c = await loadConfigIsolated({ env: { CERTBOUND_PORT: '9200' } });
      console.log(JSON.stringify({ port: c.port, zod: loaded.some((u) => u.includes('/node_modules/zod/')) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe]);
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ port: 9200, zod: false });
  });
});
