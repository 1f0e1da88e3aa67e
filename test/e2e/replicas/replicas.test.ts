/**
 * Several stateless replicas on one database (PostgreSQL in production; with CERTBOUND_TEST_DB=sqlite the
 * same replicas share one SQLite file, so the suite runs on both). Replicas share nothing but SQL: tokens,
 * clients, trust anchors and signing keys all live there, and each replica polls the `revisions` table
 * every CERTBOUND_RELOAD_INTERVAL_MS for key and trust-anchor changes.
 *
 * First two replicas in this process (startServer twice), then two separate `certbound migrate` and
 * `certbound serve` OS processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { migrateLatest, openDatabase } from '../../../src/store/knex.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../../helpers/db.js';
import { freePort, httpsJson, tlsAgent } from '../../helpers/net.js';
import { createTestPki, type Issued, type TestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const JWT_API = 'https://api.example.com';
const OPAQUE_API = 'https://opaque.example.com';
const RELOAD_MS = 400;
/** The documented bound: a change is served within one reload interval, plus the reload itself. */
const RELOAD_BOUND_MS = RELOAD_MS + 1500;

interface Replica {
  mainUrl: string;
  mtlsUrl: string;
}

async function cli(env: Record<string, string>, ...argv: string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
  if (code !== 0) throw new Error(`certbound ${argv.join(' ')} → ${code}: ${err.join('\n')}`);
  return out.join('\n');
}

function writeFiles(pki: TestPki, extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-replicas-'));
  const files: Record<string, string> = {
    root: pki.root.pem,
    'server.pem': pki.server.pem + pki.intermediate.pem,
    'server.key': pki.server.keyPem,
    ...extra,
  };
  const paths: Record<string, string> = { dir };
  for (const [name, text] of Object.entries(files)) {
    paths[name] = path.join(dir, name);
    writeFileSync(paths[name], text);
  }
  return paths;
}

async function kidsAt(pki: TestPki, replica: Replica): Promise<string[]> {
  const agent = tlsAgent({ ca: pki.root.pem });
  try {
    const res = await httpsJson(`${replica.mainUrl}/jwks`, { agent });
    return ((res.body.keys as { kid: string }[]) ?? []).map((k) => k.kid);
  } finally {
    await agent.close();
  }
}

async function tokenAt(pki: TestPki, replica: Replica, client: Issued, clientId: string, resource?: string) {
  const agent = tlsAgent({ ca: pki.root.pem, cert: pki.chainOf(client), key: client.keyPem });
  try {
    return await httpsJson(`${replica.mtlsUrl}/token`, { agent, form: { grant_type: 'client_credentials', client_id: clientId, ...(resource ? { resource } : {}) } });
  } finally {
    await agent.close();
  }
}

async function introspectAt(pki: TestPki, replica: Replica, rs: Issued, token: string) {
  const agent = tlsAgent({ ca: pki.root.pem, cert: pki.chainOf(rs), key: rs.keyPem });
  try {
    return await httpsJson(`${replica.mtlsUrl}/token/introspection`, { agent, form: { token, client_id: 'orders-rs' } });
  } finally {
    await agent.close();
  }
}

async function verifyWithJwksOf(pki: TestPki, replica: Replica, issuer: string, token: string) {
  const agent = tlsAgent({ ca: pki.root.pem });
  try {
    const jwks = await httpsJson(`${replica.mainUrl}/jwks`, { agent });
    return (await jwtVerify(token, createLocalJWKSet(jwks.body as never), { issuer, audience: JWT_API, typ: 'at+jwt' })).payload;
  } finally {
    await agent.close();
  }
}

/** Polls until every replica publishes `kid`; returns the elapsed milliseconds. */
async function waitForKid(pki: TestPki, replicas: Replica[], kid: string, limitMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const all = await Promise.all(replicas.map((r) => kidsAt(pki, r)));
    if (all.every((kids) => kids.includes(kid))) return Date.now() - start;
    if (Date.now() - start > limitMs) throw new Error(`kid ${kid} not published by every replica within ${limitMs} ms: ${JSON.stringify(all)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The scenario both suites run: cross-replica tokens, a CLI change, a key rotation. */
function replicaScenario(ctx: () => { pki: TestPki; env: Record<string, string>; issuer: string; replicas: [Replica, Replica]; billing: Issued; rs: Issued }) {
  it('JWT: a token issued by replica 1 verifies with replica 2’s JWKS, bound to the client certificate (BT-8)', async () => {
    const { pki, replicas, billing, issuer } = ctx();
    const res = await tokenAt(pki, replicas[0], billing, 'billing', JWT_API);
    expect(res.status).toBe(200);
    const payload = await verifyWithJwksOf(pki, replicas[1], issuer, String(res.body.access_token));
    expect(payload.cnf).toEqual({ 'x5t#S256': x5tS256(billing.der) });
    expect(payload).toMatchObject({ client_id: 'billing', scope: 'read', aud: JWT_API });
  });

  it('opaque: a token issued by replica 1 is introspected at replica 2 with the same cnf (BT-13)', async () => {
    const { pki, replicas, billing, rs } = ctx();
    const res = await tokenAt(pki, replicas[0], billing, 'billing', OPAQUE_API);
    expect(res.status).toBe(200);
    const token = String(res.body.access_token);
    expect(token.split('.')).toHaveLength(1);
    const info = await introspectAt(pki, replicas[1], rs, token);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ active: true, client_id: 'billing', scope: 'read', aud: OPAQUE_API, cnf: { 'x5t#S256': x5tS256(billing.der) } });
  });

  it('a client added with the CLI while both run is usable on both, without a restart', async () => {
    const { pki, env, replicas, issuer } = ctx();
    const newcomer = await pki.client({ subject: [{ CN: ['newcomer'] }], san: [{ type: 'dns', value: 'newcomer.example.com' }] });
    await cli(env, 'client', 'add', '--id', 'newcomer', '--san-dns', 'newcomer.example.com', '--scope', 'read', '--resource', JWT_API);
    for (const replica of replicas) {
      const res = await tokenAt(pki, replica, newcomer, 'newcomer');
      expect(res.status).toBe(200);
      const payload = await verifyWithJwksOf(pki, replica, issuer, String(res.body.access_token));
      expect(payload).toMatchObject({ client_id: 'newcomer', scope: 'read', aud: JWT_API, cnf: { 'x5t#S256': x5tS256(newcomer.der) } });
    }
  });

  it(`certbound keys rotate is picked up by both replicas within CERTBOUND_RELOAD_INTERVAL_MS (+ reload time, ${RELOAD_BOUND_MS} ms here)`, async () => {
    const { pki, env, replicas, billing, issuer } = ctx();
    const out = await cli(env, 'keys', 'rotate');
    const kid = /new active key (\S+)/.exec(out)?.[1];
    expect(kid).toBeDefined();
    const elapsed = await waitForKid(pki, replicas, kid!, RELOAD_BOUND_MS);
    expect(elapsed).toBeLessThanOrEqual(RELOAD_BOUND_MS);
    // Both now sign with the new key, and each verifies the other's new tokens.
    for (const [issuing, verifying] of [replicas, [...replicas].reverse()] as [Replica, Replica][]) {
      const res = await tokenAt(pki, issuing, billing, 'billing', JWT_API);
      const token = String(res.body.access_token);
      expect(decodeProtectedHeader(token).kid).toBe(kid);
      expect(await verifyWithJwksOf(pki, verifying, issuer, token)).toMatchObject({ client_id: 'billing', scope: 'read', aud: JWT_API, cnf: { 'x5t#S256': x5tS256(billing.der) } });
    }
  });
}

async function seed(env: Record<string, string>, files: Record<string, string>): Promise<void> {
  await cli(env, 'trust', 'add', '--name', 'test-root', '--cert', files.root!, '--environment', 'prod');
  await cli(env, 'resource', 'add', '--id', JWT_API, '--scope', 'read', '--format', 'jwt');
  await cli(env, 'resource', 'add', '--id', OPAQUE_API, '--scope', 'read', '--format', 'opaque');
  await cli(env, 'client', 'add', '--id', 'billing', '--san-dns', 'billing.example.com', '--trust', 'test-root', '--scope', 'read', '--resource', JWT_API);
  await cli(env, 'client', 'add', '--id', 'orders-rs', '--san-dns', 'orders-rs.example.com', '--scope', 'read');
  // H15-2: the resource server introspects its tokens as orders-rs.
  await cli(env, 'resource', 'add', '--id', OPAQUE_API, '--scope', 'read', '--format', 'opaque', '--introspection-clients', 'orders-rs');
}

describe(`two replicas in one process on one ${TEST_DB_KIND} database`, () => {
  let pki: TestPki;
  let database: TestDatabase;
  let servers: TestServer[] = [];
  let env: Record<string, string>;
  let billing: Issued;
  let rs: Issued;
  const issuer = 'https://as.certbound.test';

  beforeAll(async () => {
    pki = await createTestPki();
    database = await createTestDatabase();
    const files = writeFiles(pki);
    env = { CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: files.dir! };
    await cli(env, 'keys', 'rotate');
    await seed(env, files);
    // Same issuer and public mTLS URL on both: a load balancer would sit in front of them.
    const overrides = { issuer, mtlsUrl: 'https://mtls.certbound.test', reloadIntervalMs: RELOAD_MS };
    servers = [await startTestServer({ pki, database, configOverrides: overrides }), await startTestServer({ pki, database, configOverrides: overrides })];
    billing = await pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    rs = await pki.client({ subject: [{ CN: ['orders-rs'] }], san: [{ type: 'dns', value: 'orders-rs.example.com' }] });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await database?.drop();
  });

  replicaScenario(() => ({ pki, env, issuer, billing, rs, replicas: [servers[0]!.handle, servers[1]!.handle] }));
});

/** Runs `node --import tsx src/cli/main.ts …` (the certbound command from the sources) as its own OS process. */
function spawnCertbound(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c) => {
    output += c;
  });
  child.stderr?.on('data', (c) => {
    output += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function waitReady(pki: TestPki, replica: Replica, proc: { output: () => string; exited: Promise<number | null> }, limitMs: number): Promise<void> {
  const agent = tlsAgent({ ca: pki.root.pem });
  const start = Date.now();
  let exitCode: number | null | undefined;
  proc.exited.then((c) => {
    exitCode = c;
  });
  try {
    for (;;) {
      if (exitCode !== undefined) throw new Error(`certbound serve exited (${exitCode}):\n${proc.output()}`);
      try {
        const res = await httpsJson(`${replica.mainUrl}/readyz`, { agent });
        if (res.status === 200) return;
      } catch {}
      if (Date.now() - start > limitMs) throw new Error(`certbound serve not ready within ${limitMs} ms:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await agent.close();
  }
}

describe(`two certbound OS processes on one ${TEST_DB_KIND} database`, () => {
  let pki: TestPki;
  let database: TestDatabase;
  let env: Record<string, string>;
  let files: Record<string, string>;
  let billing: Issued;
  let rs: Issued;
  const procs: ReturnType<typeof spawnCertbound>[] = [];
  const replicas: Replica[] = [];
  const issuer = 'https://as.certbound.test';

  beforeAll(async () => {
    pki = await createTestPki();
    database = await createTestDatabase({ migrate: false });
    files = writeFiles(pki);
    env = { CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: files.dir! };
    billing = await pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    rs = await pki.client({ subject: [{ CN: ['orders-rs'] }], san: [{ type: 'dns', value: 'orders-rs.example.com' }] });
  });
  afterAll(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    }
    await Promise.all(
      procs.map(async (p) => {
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
        await p.exited;
        clearTimeout(timer);
        children.delete(p.child);
      }),
    );
    await database?.drop();
  });

  it('two replicas migrating a fresh database at once: both succeed, each migration is applied exactly once (knex migration lock)', async () => {
    const migrations = [spawnCertbound(['migrate'], env), spawnCertbound(['migrate'], env)];
    for (const m of migrations) children.add(m.child);
    const codes = await Promise.all(migrations.map((m) => m.exited));
    for (const [i, m] of migrations.entries()) {
      children.delete(m.child);
      expect(codes[i], m.output()).toBe(0);
    }
    const rows = (await database.db('knex_migrations').select('name')) as { name: string }[];
    const names = rows.map((r) => r.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    expect(await database.db.schema.hasTable('signing_keys')).toBe(true);
  }, 120_000);

  it('two `certbound serve` processes start at once (production mode) on the shared database', async () => {
    await cli(env, 'keys', 'rotate');
    await seed(env, files);
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    for (const i of [0, 1]) {
      const replica = { mainUrl: `https://127.0.0.1:${ports[2 * i]}`, mtlsUrl: `https://127.0.0.1:${ports[2 * i + 1]}` };
      replicas.push(replica);
      const proc = spawnCertbound(['serve'], {
        ...env,
        CERTBOUND_ENV: 'production',
        CERTBOUND_ISSUER: issuer,
        CERTBOUND_MTLS_URL: 'https://mtls.certbound.test',
        CERTBOUND_HOST: '127.0.0.1',
        CERTBOUND_PORT: String(ports[2 * i]),
        CERTBOUND_MTLS_PORT: String(ports[2 * i + 1]),
        CERTBOUND_TLS_CERT: files['server.pem']!,
        CERTBOUND_TLS_KEY: files['server.key']!,
        CERTBOUND_RELOAD_INTERVAL_MS: String(RELOAD_MS),
        CERTBOUND_LOG_LEVEL: 'warn',
      });
      procs.push(proc);
      children.add(proc.child);
    }
    await Promise.all(replicas.map((r, i) => waitReady(pki, r, procs[i]!, 90_000)));
  }, 120_000);

  replicaScenario(() => ({ pki, env, issuer, billing, rs, replicas: replicas as [Replica, Replica] }));
});

describe(`migrations racing on a fresh ${TEST_DB_KIND} database`, () => {
  // SQLite fails a deadlocked writer only after its 5 s busy timeout (then migrateLatest retries): 2 racers there.
  const racers = TEST_DB_KIND === 'postgres' ? 4 : 2;
  it(`${racers} connection pools migrating at once: every run succeeds, each migration is applied exactly once`, async () => {
    const database = await createTestDatabase({ migrate: false });
    const dbs = Array.from({ length: racers }, () => openDatabase(database.database));
    try {
      const applied = await Promise.all(dbs.map((db) => migrateLatest(db)));
      const total = applied.reduce((n: number, a: string[]) => n + a.length, 0);
      const names = ((await database.db('knex_migrations').select('name')) as { name: string }[]).map((r) => r.name);
      expect(total).toBe(names.length);
      expect(new Set(names).size).toBe(names.length);
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
      await database.drop();
    }
  }, 60_000);
});
