/**
 * What every run builds before measuring, all generated at run time (STYLE habit 5): a test PKI
 * written to a temporary directory, certbound databases (SQLite or a PostgreSQL database of its own)
 * with the resource server and N clients, and the ES256 keys of the baselines.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import knexFactory from 'knex';
import Provider from 'oidc-provider';
import { createAdminService } from '../../src/app/service.js';
import { canonicalizeMappingValue, x5tS256 } from '../../src/pki/index.js';
import { clients, createOidcAdapter } from '../../src/store/index.js';
import { type Db, isPostgres, migrateLatest, openDatabase } from '../../src/store/knex.js';
import { createTestPki, type Issued, type TestPki } from '../../test/helpers/pki.js';
import { BENCH_REDIRECT_URI, type MintOptions, mintRefreshTokens } from './refresh-tokens.js';

export const RESOURCE = 'https://api.bench.test';
export const SCOPES = ['bench.read', 'bench.write'];
export const ANCHOR_NAME = 'bench-root';

export const clientId = (i: number) => `bench-client-${String(i).padStart(6, '0')}`;
export const clientSan = (i: number) => `client-${i}.bench.test`;

export interface BenchPki {
  pki: TestPki;
  dir: string;
  /** Files: server chain and key (for the listeners), root CA (the trust anchor). */
  files: { serverCert: string; serverKey: string; ca: string };
  /** Client certificates by client index. */
  clients: Map<number, Issued>;
  /** PEM file of client `i`'s certificate (leaf only). */
  clientCertFile(i: number): string;
  /** TLS material the load generator presents for client `i` (leaf + intermediate). */
  clientTls(i: number): { ca: string; cert: string; key: string };
  thumbprint(i: number): string;
}

export async function createBenchPki(clientIndexes: number[]): Promise<BenchPki> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-bench-'));
  const pki = await createTestPki('Bench');
  const files = { serverCert: path.join(dir, 'server.pem'), serverKey: path.join(dir, 'server.key'), ca: path.join(dir, 'root.pem') };
  writeFileSync(files.serverCert, pki.server.pem + pki.intermediate.pem);
  writeFileSync(files.serverKey, pki.server.keyPem, { mode: 0o600 });
  writeFileSync(files.ca, pki.root.pem);
  const clients = new Map<number, Issued>();
  for (const i of clientIndexes) {
    clients.set(i, await pki.client({ subject: [{ O: ['Bench'] }, { CN: [clientId(i)] }], san: [{ type: 'dns', value: clientSan(i) }] }));
  }
  const get = (i: number) => {
    const c = clients.get(i);
    if (!c) throw new Error(`no client certificate for client ${i}`);
    return c;
  };
  return {
    pki,
    dir,
    files,
    clients,
    clientCertFile(i) {
      const file = path.join(dir, `client-${i}.pem`);
      writeFileSync(file, get(i).pem);
      return file;
    },
    clientTls: (i) => ({ ca: pki.root.pem, cert: pki.chainOf(get(i)), key: get(i).keyPem }),
    thumbprint: (i) => x5tS256(get(i).der),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function es256Jwk(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

export interface BenchDatabase {
  kind: 'sqlite' | 'postgres';
  /** CERTBOUND_DATABASE_URL for the server process. */
  url: string;
  clients: number;
  drop(): Promise<void>;
}

/**
 * Inserts clients `from..to-1` with one SAN mapping each (pinned to the bench trust anchor), straight
 * into `clients` and `certificate_mappings`: the admin service adds one client per transaction with
 * its audit row, far too slow for 100 000. The rows are generated inside the database from a number
 * series (a recursive CTE on SQLite, generate_series on PostgreSQL), two statements in all, with the
 * same column values clientId(i), clientSan(i) and canonicalizeMappingValue() give.
 */
async function bulkInsertClients(db: Db, from: number, to: number, anchorId: string): Promise<void> {
  // The SQL below writes the canonical form as the value itself: true for these lower-case DNS names.
  if (canonicalizeMappingValue('san_dns', clientSan(from)) !== clientSan(from)) throw new Error('bench clients: canonical SAN differs from the value');
  const now = Date.now();
  const pg = isPostgres(db);
  const series = pg
    ? 'select i from generate_series(?::int, ?::int) as s(i)'
    : 'with recursive s(i) as (select cast(? as integer) union all select i + 1 from s where i < cast(? as integer)) select i from s';
  const padded = pg ? "lpad(i::text, 6, '0')" : "substr('000000' || i, -6, 6)";
  const san = pg ? "'client-' || i::text || '.bench.test'" : "'client-' || i || '.bench.test'";
  const uuid = pg ? 'gen_random_uuid()::text' : 'lower(hex(randomblob(16)))';
  const yes = pg ? 'true' : '1';
  const metadata = JSON.stringify({ grant_types: ['client_credentials'] });
  await db.transaction(async (trx) => {
    await trx.raw(
      `insert into clients (client_id, token_endpoint_auth_method, bound_tokens, scope, default_resource, jwks, metadata, created_at, updated_at)
       select 'bench-client-' || ${padded}, 'tls_client_auth', ${yes}, ?, ?, null, ?, ?, ? from (${series}) as n`,
      [SCOPES.join(' '), RESOURCE, metadata, now, now, from, to - 1],
    );
    await trx.raw(
      `insert into certificate_mappings (id, client_id, kind, value, canonical, trust_anchor_id, not_before, not_after, created_at)
       select ${uuid}, 'bench-client-' || ${padded}, 'san_dns', ${san}, ${san}, ?, null, null, ? from (${series}) as n`,
      [anchorId, now, from, to - 1],
    );
  });
  const [{ count }] = (await db('clients').count({ count: '*' })) as [{ count: number | string }];
  if (Number(count) !== to) throw new Error(`bench clients: expected ${to} clients, found ${count}`);
}

/** An empty database of its own: a new PostgreSQL database, or a SQLite file name in a new temporary directory; `drop` removes it. */
export async function createEmptyDatabase(kind: 'sqlite' | 'postgres', pgAdminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (kind === 'postgres') {
    const name = `certbound_bench_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: pgAdminUrl, pool: { min: 0, max: 1 } });
    try {
      await admin.raw(`create database ${name}`);
    } finally {
      await admin.destroy();
    }
    return {
      url: pgAdminUrl.replace(/\/[^/]*$/, `/${name}`),
      drop: async () => {
        const a = knexFactory({ client: 'pg', connection: pgAdminUrl, pool: { min: 0, max: 1 } });
        try {
          await a.raw(`drop database if exists ${name} with (force)`);
        } finally {
          await a.destroy();
        }
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-bench-db-'));
  return { url: path.join(dir, 'certbound.sqlite'), drop: async () => removeDir(dir) };
}

/**
 * A migrated certbound database with a signing key, the bench trust anchor, the bench resource server,
 * client 0 added through the admin service (the one the load uses) and clients 1..n-1 bulk-inserted.
 */
export async function createBenchDatabase(options: { kind: 'sqlite' | 'postgres'; clients: number; pki: BenchPki; pgAdminUrl: string }): Promise<BenchDatabase> {
  const { url, drop: cleanup } = await createEmptyDatabase(options.kind, options.pgAdminUrl);
  const db = openDatabase(options.kind === 'postgres' ? { client: 'pg', url } : { client: 'sqlite', filename: url });
  try {
    await migrateLatest(db);
    const admin = createAdminService({ db, signingAlg: 'ES256' });
    const actor = 'bench:setup';
    await admin.ensureActiveKey(actor);
    await admin.addTrustAnchor({ name: ANCHOR_NAME, pem: options.pki.pki.root.pem, environment: 'bench' }, actor);
    await admin.addResourceServer({ identifier: RESOURCE, scopes: SCOPES, tokenFormat: 'jwt' }, actor);
    await admin.addClient({ clientId: clientId(0), mapping: { kind: 'san_dns', value: clientSan(0), trustAnchor: ANCHOR_NAME }, scopes: SCOPES, defaultResource: RESOURCE }, actor);
    const anchor = (await db('trust_anchors').where({ name: ANCHOR_NAME }).first()) as { id: string };
    if (options.clients > 1) await bulkInsertClients(db, 1, options.clients, anchor.id);
    if (options.kind === 'postgres') await db.raw('analyze');
  } catch (err) {
    await db.destroy();
    await cleanup();
    throw err;
  }
  await db.destroy();
  return { kind: options.kind, url, clients: options.clients, drop: cleanup };
}

/**
 * Registers the client for the code flow (grant types, redirect URI) in certbound's database and
 * mints refresh tokens into it, through certbound's oidc-provider adapter.
 */
export async function mintCertboundRefreshTokens(db: BenchDatabase, options: MintOptions & { sanDns: string }): Promise<string[]> {
  const knex = openDatabase(db.kind === 'postgres' ? { client: 'pg', url: db.url } : { client: 'sqlite', filename: db.url });
  try {
    const record = await clients.find(knex, options.clientId);
    if (!record) throw new Error(`bench: no client ${options.clientId} in the database`);
    await clients.update(knex, options.clientId, {
      metadata: { ...record.metadata, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [BENCH_REDIRECT_URI], require_pushed_authorization_requests: true },
    });
    // Only the models are used: the client as oidc-provider needs it to mint, the adapter that writes the rows.
    const metadata = {
      client_id: options.clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: options.sanDns,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [BENCH_REDIRECT_URI],
    };
    const adapter = createOidcAdapter(knex, async (id) => (id === options.clientId ? metadata : undefined));
    const provider = new Provider('https://localhost', {
      adapter: adapter as never,
      clientAuthMethods: ['tls_client_auth'],
      issueRefreshToken: async () => true,
      features: {
        devInteractions: { enabled: false },
        mTLS: {
          enabled: true,
          tlsClientAuth: true,
          certificateBoundAccessTokens: true,
          // Never called: nothing is served, the models only mint.
          getCertificate: () => undefined,
          certificateAuthorized: () => false,
          certificateSubjectMatches: () => false,
        },
      },
    });
    return await mintRefreshTokens(provider, options);
  } finally {
    await knex.destroy();
  }
}
