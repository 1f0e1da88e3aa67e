/**
 * Starts a real certbound server for a test: a real database (SQLite or PostgreSQL, see db.ts), a test
 * PKI made now, real HTTPS listeners on free loopback ports, and a log capture.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Agent } from 'undici';
import { createAdminService } from '../../src/app/service.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import { type ServerHandle, type StartServerOptions, startServer } from '../../src/server/index.js';
import { openDriverSql } from '../../src/store/driver.js';
import { sqlOf } from '../../src/store/sql.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { freePort, httpsJson, type JsonResponse, tlsAgent } from './net.js';
import { createTestPki, type Issued, type TestPki } from './pki.js';

export interface TestServer {
  pki: TestPki;
  database: TestDatabase;
  admin: ReturnType<typeof createAdminService>;
  config: Config;
  handle: ServerHandle;
  issuer: string;
  mtlsUrl: string;
  /** Parsed pino lines written so far. */
  logs: Record<string, unknown>[];
  /** undici agent trusting the test root, presenting `client` (chain: leaf + intermediate unless `chain` given). */
  agent(client?: Issued, chain?: string): Agent;
  /** POST /token on the mTLS listener. */
  token(client: Issued | undefined, form: Record<string, string | string[]>, options?: { chain?: string; url?: string }): Promise<JsonResponse>;
  close(): Promise<void>;
}

export interface StartTestServerOptions {
  configOverrides?: Record<string, unknown>;
  anchorName?: string;
  /** Share a database (replicas): not dropped by close(), no key or trust anchor added. */
  database?: TestDatabase;
  /** Share a PKI (replicas, proxies in front). */
  pki?: TestPki;
  /** End-user sign-in for the code flow: a login of the test's, or the upstream login's fetch (a private CA). */
  serverOptions?: Pick<StartServerOptions, 'login' | 'upstreamFetch'>;
}

export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  const pki = options.pki ?? (await createTestPki());
  const shared = options.database !== undefined;
  const database = options.database ?? (await createTestDatabase());
  const [port, mtlsPort] = [await freePort(), await freePort()];
  const config = loadConfig({
    env: {},
    overrides: {
      issuer: `https://localhost:${port}`,
      mtlsUrl: `https://localhost:${mtlsPort}`,
      port,
      mtlsPort,
      host: '127.0.0.1',
      databaseUrl: database.url,
      reloadIntervalMs: 200,
      logLevel: 'debug',
      ...options.configOverrides,
    },
  });
  const admin = createAdminService({
    db: database.db,
    signingAlg: config.signingAlg,
    keyEncryptionKey: config.keyEncryptionKey,
    jwksUriAllowedRanges: config.jwksUriAllowedRanges,
  });
  if (!shared) {
    await admin.ensureActiveKey('test');
    await admin.addTrustAnchor({ name: options.anchorName ?? 'test-root', pem: pki.root.pem, environment: 'prod' }, 'test');
  }
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  // As `certbound serve` runs it: the store on the drivers, knex (the test's connection) once the admin
  // API needs it, from when on the drivers hand over to it.
  const db = await openDriverSql(config.database);
  const knex = async () => {
    await db.delegateTo(sqlOf(database.db));
    return database.db;
  };
  const handle = await startServer({ config, db, knex, logger, tls: { cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, ...options.serverOptions });
  const agents: Agent[] = [];
  const agent = (client?: Issued, chain?: string) => {
    const a = tlsAgent({ ca: pki.root.pem, ...(client ? { cert: chain ?? pki.chainOf(client), key: client.keyPem } : {}) });
    agents.push(a);
    return a;
  };
  return {
    pki,
    database,
    admin,
    config,
    handle,
    issuer: config.issuer,
    mtlsUrl: config.mtlsUrl,
    logs,
    agent,
    token: (client, form, opts = {}) => httpsJson(opts.url ?? `${handle.mtlsUrl}/token`, { agent: agent(client, opts.chain), form }),
    async close() {
      await Promise.all(agents.map((a) => a.close().catch(() => {})));
      await handle.close();
      await db.close();
      if (!shared) await database.drop();
    },
  };
}
