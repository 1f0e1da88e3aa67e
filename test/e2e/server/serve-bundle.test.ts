/**
 * `certbound serve` from dist/ runs the esbuild bundle of the server (scripts/build-server.mjs →
 * dist/server/: fewer, smaller modules, a smaller heap). These tests bundle the current
 * sources into a temporary directory and run that bundle in a process of its own, as `certbound serve`
 * does: fresh development start (migrations, dev PKI, demo client), a certificate-bound token over
 * real mTLS, the configuration worker, a clean stop; and a bad setting explained as the sources explain it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../../src/app/service.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { freePort, httpsJson, tlsAgent } from '../../helpers/net.js';
import { createTestPki } from '../../helpers/pki.js';

const root = path.resolve(import.meta.dirname, '../../..');
let bundleDir: string;

/** Runs the bundle's runServe in a new process; `loaded` lists every module URL the main thread resolved. */
function startBundle(env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const script = `
    const { registerHooks } = await import('node:module');
    const loaded = [];
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); loaded.push(r.url); return r; } });
    process.on('SIGTERM', () => {}); // runServe's own handler stops the server
    const { runServe } = await import(${JSON.stringify(path.join(bundleDir, 'serve.js'))});
    const code = await runServe(process.env, { out: (t) => console.log(t), err: (t) => console.error(t) });
    console.log('LOADED ' + JSON.stringify(loaded));
    process.exit(code);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

async function waitFor(check: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  // Inside the project, as dist/server is: the bundle finds its external packages in node_modules.
  bundleDir = mkdtempSync(path.join(root, '.test-bundle-'));
  await promisify(execFile)(process.execPath, [path.join(root, 'scripts/build-server.mjs'), '--outdir', bundleDir, '--metafile', path.join(bundleDir, 'meta.json')], { cwd: root });
}, 60_000);
afterAll(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

describe('certbound serve from the bundle', () => {
  let database: TestDatabase;
  afterAll(async () => {
    await database?.drop();
  });

  it('a fresh development start issues a certificate-bound token over mTLS, loads no unbundled certbound module nor the HTTP client, and stops on SIGTERM', async () => {
    database = await createTestDatabase({ migrate: false });
    const [port, mtlsPort] = [await freePort(), await freePort()];
    const dataDir = mkdtempSync(path.join(tmpdir(), 'certbound-bundle-dev-'));
    const run = startBundle({
      CERTBOUND_DATA_DIR: dataDir,
      CERTBOUND_DATABASE_URL: database.url,
      CERTBOUND_PORT: String(port),
      CERTBOUND_MTLS_PORT: String(mtlsPort),
      CERTBOUND_LOG_LEVEL: 'warn',
    });
    const exited = once(run.child, 'exit');
    try {
      await waitFor(
        () => /curl .*\/token/.test(run.stdout()),
        () => `${run.stdout()}\n${run.stderr()}`,
      );
      const line = run
        .stdout()
        .split('\n')
        .find((l) => l.trim().startsWith('curl '))!;
      const arg = (flag: string) => new RegExp(`${flag} (\\S+)`).exec(line)![1]!;
      const agent = tlsAgent({ ca: readFileSync(arg('--cacert'), 'utf8'), cert: readFileSync(arg('--cert'), 'utf8'), key: readFileSync(arg('--key'), 'utf8') });
      const res = await httpsJson(`https://localhost:${mtlsPort}/token`, { agent, form: { grant_type: 'client_credentials', client_id: 'demo-client' } });
      await agent.close();
      expect(res.status).toBe(200);
      const leafPem = readFileSync(arg('--cert'), 'utf8').split('-----END CERTIFICATE-----')[0]!;
      const der = Buffer.from(leafPem.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''), 'base64');
      expect(decodeJwt(String(res.body.access_token))).toMatchObject({
        client_id: 'demo-client',
        scope: 'demo.read demo.write',
        aud: 'https://demo-api.certbound.test',
        cnf: { 'x5t#S256': x5tS256(der) },
      });
      // /metrics from the bundle: process metrics too (prom-client runs on the OpenTelemetry stub)
      const scrape = await httpsJson(`https://localhost:${port}/metrics`, { agent: tlsAgent({ ca: readFileSync(arg('--cacert'), 'utf8') }) });
      expect(scrape.status).toBe(200);
      expect(scrape.text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(scrape.text).toMatch(/^certbound_token_issued_total\{client_id="demo-client",format="jwt"\} 1$/m);
    } finally {
      run.child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    const loaded = JSON.parse(/LOADED (.*)/.exec(run.stdout())![1]!) as string[];
    const certboundModules = loaded.filter((u) => u.startsWith('file://') && !u.includes('/node_modules/'));
    // only the bundle's own files: nothing from src/ or dist/src/
    expect(certboundModules.length).toBeGreaterThan(1);
    expect(certboundModules.filter((u) => !u.startsWith(`file://${bundleDir}/`))).toEqual([]);
    // the validator stays in the configuration worker
    expect(loaded.some((u) => u.includes('/node_modules/zod/'))).toBe(false);
    // the HTTP client (jwks_uri fetches, the verifier) loads on first use, even though the development start
    // uses the admin use cases (first signing key, demo client), which can fetch a jwks_uri
    expect(loaded.filter((u) => u.includes('/node_modules/undici/'))).toEqual([]);
  }, 60_000);

  it('a production start on a current database issues a bound token, explains a refusal and refuses an unauthenticated admin request without loading knex: the store runs on the drivers', async () => {
    const db = await createTestDatabase();
    const pki = await createTestPki('Bundle');
    const admin = createAdminService({ db: db.db, signingAlg: 'ES256' });
    await admin.ensureActiveKey('test');
    await admin.addTrustAnchor({ name: 'corp-root', pem: pki.root.pem, environment: 'prod' }, 'test');
    await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'test');
    await admin.addClient(
      { clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' }, scopes: ['read'], defaultResource: 'https://api.example.com' },
      'test',
    );
    const billing = await pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const stranger = await pki.client({ subject: [{ CN: ['stranger'] }], san: [{ type: 'dns', value: 'stranger.example.com' }] });
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-bundle-prod-'));
    writeFileSync(path.join(dir, 'server.pem'), pki.server.pem + pki.intermediate.pem);
    writeFileSync(path.join(dir, 'server.key'), pki.server.keyPem);
    const [port, mtlsPort] = [await freePort(), await freePort()];
    const run = startBundle({
      CERTBOUND_ENV: 'production',
      CERTBOUND_ISSUER: `https://localhost:${port}`,
      CERTBOUND_MTLS_URL: `https://localhost:${mtlsPort}`,
      CERTBOUND_PORT: String(port),
      CERTBOUND_MTLS_PORT: String(mtlsPort),
      CERTBOUND_TLS_CERT: path.join(dir, 'server.pem'),
      CERTBOUND_TLS_KEY: path.join(dir, 'server.key'),
      CERTBOUND_DATABASE_URL: db.url,
      CERTBOUND_DATA_DIR: dir,
      CERTBOUND_LOG_LEVEL: 'warn',
    });
    const exited = once(run.child, 'exit');
    const token = async (client: typeof billing) => {
      const agent = tlsAgent({ ca: pki.root.pem, cert: pki.chainOf(client), key: client.keyPem });
      try {
        return await httpsJson(`https://localhost:${mtlsPort}/token`, { agent, form: { grant_type: 'client_credentials', client_id: 'billing' } });
      } finally {
        await agent.close();
      }
    };
    try {
      const until = Date.now() + 30_000;
      let res: Awaited<ReturnType<typeof token>> | undefined;
      while (!res) {
        res = await token(billing).catch((err: unknown) => {
          if (Date.now() > until || run.child.exitCode !== null) throw new Error(`the bundle did not start: ${String(err)}\n${run.stdout()}\n${run.stderr()}`);
          return new Promise<undefined>((r) => setTimeout(() => r(undefined), 100));
        });
      }
      expect(res.status).toBe(200);
      expect(decodeJwt(String(res.body.access_token))).toMatchObject({
        client_id: 'billing',
        scope: 'read',
        aud: 'https://api.example.com',
        cnf: { 'x5t#S256': x5tS256(billing.der) },
      });
      // a refused certificate: diagnosed from the store (mappings, trust anchors) on the drivers too
      const refused = await token(stranger);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
      await waitFor(
        () => run.stdout().includes('client_auth_refused') || run.stderr().includes('client_auth_refused'),
        () => run.stdout() + run.stderr(),
      );
      expect(run.stdout() + run.stderr()).toContain('SAN_MISMATCH');
      // the admin API answers an unauthenticated request without loading the admin use cases (nor knex)
      const anonymous = tlsAgent({ ca: pki.root.pem });
      const unauthenticated = await httpsJson(`https://localhost:${mtlsPort}/admin/clients`, { agent: anonymous });
      await anonymous.close();
      expect(unauthenticated.status).toBe(401);
    } finally {
      run.child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    // which of the bundle's chunks the process loaded, and what is in them
    type Meta = { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const meta = JSON.parse(readFileSync(path.join(bundleDir, 'meta.json'), 'utf8')) as Meta;
    const inputsOf = new Map(Object.entries(meta.outputs).map(([out, o]) => [`file://${path.resolve(root, out)}`, Object.keys(o.inputs)]));
    const loaded = JSON.parse(/LOADED (.*)/.exec(run.stdout())![1]!) as string[];
    const loadedInputs = loaded.flatMap((u) => inputsOf.get(u) ?? []);
    expect(loadedInputs).toContain('src/store/driver.ts');
    expect(loadedInputs).toContain('src/app/diagnosis.ts');
    for (const heavy of ['node_modules/knex/', 'node_modules/lodash/', 'node_modules/tarn/', 'src/store/knex.ts', 'src/app/service.ts']) {
      expect(
        loadedInputs.filter((i) => i.includes(heavy)),
        heavy,
      ).toEqual([]);
    }
    expect(loaded.filter((u) => u.includes('/node_modules/knex/'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }, 60_000);

  it('what a server that only issues tokens loads at start-up leaves out the validator, the admin API and use cases, the diagnosis engine, the verifier, the dev PKI and pkijs', () => {
    type Meta = { outputs: Record<string, { imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }> };
    const meta = JSON.parse(readFileSync(path.join(bundleDir, 'meta.json'), 'utf8')) as Meta;
    const byFile = new Map(Object.entries(meta.outputs).map(([out, o]) => [path.resolve(root, out), o]));
    // The chunks serve.js loads by static imports (dynamic import() chunks load on first use).
    const atStart = new Set<string>();
    const visit = (file: string) => {
      if (atStart.has(file) || !byFile.has(file)) return;
      atStart.add(file);
      for (const i of byFile.get(file)!.imports) if (i.kind === 'import-statement') visit(path.resolve(root, i.path));
    };
    visit(path.join(bundleDir, 'serve.js'));
    const inputs = [...atStart].flatMap((f) => Object.keys(byFile.get(f)!.inputs));
    expect(inputs).toContain('src/server/index.ts');
    expect(inputs).toContain('src/server/mtls.ts');
    for (const heavy of [
      'node_modules/zod/',
      'node_modules/knex/',
      'src/store/knex.ts',
      'src/config/schema.ts',
      'src/app/service.ts',
      'src/admin-api/app.ts',
      'src/admin-api/routes.ts',
      'src/admin-api/auth.ts',
      'src/diagnose/diagnose.ts',
      'src/verifier/verifier.ts',
      'src/app/dev-pki.ts',
      'node_modules/@peculiar/x509/',
      'node_modules/pkijs/',
    ]) {
      expect(
        inputs.filter((i) => i.includes(heavy)),
        heavy,
      ).toEqual([]);
    }
    // ... and those are in the bundle, as chunks loaded on demand
    const all = Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs));
    for (const lazy of ['src/app/service.ts', 'src/diagnose/diagnose.ts', 'src/admin-api/app.ts', 'node_modules/pkijs/', 'node_modules/knex/'])
      expect(
        all.some((i) => i.includes(lazy)),
        lazy,
      ).toBe(true);
    // prom-client's OpenTelemetry import (used only for exemplars, never enabled) is a stub, not the library
    expect(all.filter((i) => i.includes('node_modules/@opentelemetry/'))).toEqual([]);
    expect(all).toContain('no-opentelemetry:@opentelemetry/api');
  });

  it('a port another process holds is named with its setting, and the process exits (1) instead of hanging with the other listener open', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    const db = await createTestDatabase({ migrate: false });
    try {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'certbound-bundle-port-'));
      const run = startBundle({
        CERTBOUND_DATA_DIR: dataDir,
        CERTBOUND_DATABASE_URL: db.url,
        CERTBOUND_PORT: String(await freePort()),
        CERTBOUND_MTLS_PORT: String(taken),
        CERTBOUND_LOG_LEVEL: 'warn',
      });
      const [code] = await once(run.child, 'exit');
      expect(code).toBe(1);
      expect(run.stderr()).toContain(`Cannot listen on 127.0.0.1:${taken} (CERTBOUND_MTLS_PORT): the port is already in use by another process.`);
      expect(run.stderr()).toContain('choose another port with CERTBOUND_MTLS_PORT');
      expect(run.stderr()).not.toMatch(/at Server\.setupListenHandle/);
    } finally {
      blocker.close();
      await db.drop();
    }
  }, 60_000);

  it('a bad setting is explained in the same words as from the sources, exit code 1', async () => {
    const run = startBundle({ CERTBOUND_PORT: 'eighty' });
    const [code] = await once(run.child, 'exit');
    const fromSources = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      cwd: root,
      env: { ...process.env, CERTBOUND_PORT: 'eighty' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(/^error: Invalid configuration/);
    expect(run.stderr()).toContain('CERTBOUND_PORT: "eighty" is not valid');
    expect(run.stderr()).toBe(fromSources.stderr);
    expect(fromSources.code).toBe(1);
  }, 60_000);
});
