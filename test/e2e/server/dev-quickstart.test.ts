/**
 * The README's start command, in-process: development mode on a fresh data directory creates the dev
 * PKI, trusts it, registers demo-client and prints a curl line that works.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { type RunningServer, serve } from '../../../src/main.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { freePort, httpsJson, tlsAgent } from '../../helpers/net.js';
import { createCa, issueLeaf } from '../../helpers/pki.js';

let database: TestDatabase;
let running: RunningServer;
let printed: string[];
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'certbound-dev-'));
  const [port, mtlsPort] = [await freePort(), await freePort()];
  env = {
    CERTBOUND_DATA_DIR: dataDir,
    CERTBOUND_DATABASE_URL: database.url,
    CERTBOUND_PORT: String(port),
    CERTBOUND_MTLS_PORT: String(mtlsPort),
    CERTBOUND_RELOAD_INTERVAL_MS: '200',
  };
  printed = [];
  running = await serve(loadConfig({ env }), pino({ level: 'silent' }), (l) => printed.push(l));
});
afterAll(async () => {
  await running?.close();
  await database?.drop();
});

function curlArgs(): { cacert: string; cert: string; key: string; url: string } {
  const line = printed.find((l) => l.trim().startsWith('curl '))!;
  const arg = (flag: string) => new RegExp(`${flag} (\\S+)`).exec(line)![1]!;
  return { cacert: arg('--cacert'), cert: arg('--cert'), key: arg('--key'), url: line.trim().split(' ').at(-1)! };
}

describe('npm start on a fresh machine (development mode)', () => {
  it('prints the URLs and a curl command whose token is bound to the demo client certificate', async () => {
    expect(printed.join('\n')).toContain('/.well-known/oauth-authorization-server');
    const c = curlArgs();
    const agent = tlsAgent({ ca: readFileSync(c.cacert, 'utf8'), cert: readFileSync(c.cert, 'utf8'), key: readFileSync(c.key, 'utf8') });
    const res = await httpsJson(c.url, { agent, form: { grant_type: 'client_credentials', client_id: 'demo-client' } });
    await agent.close();
    expect(res.status).toBe(200);
    const claims = decodeJwt(String(res.body.access_token));
    const leafPem = readFileSync(c.cert, 'utf8').split('-----END CERTIFICATE-----')[0]!;
    const der = Buffer.from(leafPem.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''), 'base64');
    expect(claims.cnf).toEqual({ 'x5t#S256': x5tS256(der) });
    expect(claims).toMatchObject({ client_id: 'demo-client', scope: 'demo.read demo.write', aud: 'https://demo-api.certbound.test' });
  });

  it('a client added with the CLI while the server runs is usable on the next request, without restart', async () => {
    const dir = path.dirname(curlArgs().cacert);
    // a second CA, trusted through the CLI: exercises the live trust-anchor reload too
    const root = await createCa({ name: [{ CN: ['Ops Root'] }] });
    const issuing = await createCa({ name: [{ CN: ['Ops Issuing'] }], parent: root });
    const leaf = await issueLeaf(issuing, { subject: [{ CN: ['ops-agent'] }], san: [{ type: 'email', value: 'agent@ops.example.com' }] });
    writeFileSync(path.join(dir, 'ops-root.pem'), root.pem);
    const io = { out: () => {}, err: (t: string) => console.error(t) };
    expect(await runCli(['trust', 'add', '--name', 'ops-root', '--cert', path.join(dir, 'ops-root.pem')], env, io)).toBe(0);
    expect(
      await runCli(
        [
          'client',
          'add',
          '--id',
          'ops-agent',
          '--san-email',
          'agent@OPS.example.com',
          '--trust',
          'ops-root',
          '--scope',
          'demo.read',
          '--resource',
          'https://demo-api.certbound.test',
        ],
        env,
        io,
      ),
    ).toBe(0);
    await new Promise((r) => setTimeout(r, 600)); // CERTBOUND_RELOAD_INTERVAL_MS=200
    const agent = tlsAgent({ ca: readFileSync(curlArgs().cacert, 'utf8'), cert: leaf.pem + issuing.pem, key: leaf.keyPem });
    const res = await httpsJson(curlArgs().url, { agent, form: { grant_type: 'client_credentials', client_id: 'ops-agent' } });
    await agent.close();
    expect(res.status).toBe(200);
    expect(decodeJwt(String(res.body.access_token))).toMatchObject({
      client_id: 'ops-agent',
      scope: 'demo.read',
      aud: 'https://demo-api.certbound.test',
      cnf: { 'x5t#S256': x5tS256(leaf.der) },
    });
  });

  it('a second start reuses the dev PKI and the demo client (nothing duplicated)', async () => {
    const anchors = await (await running.knex())('trust_anchors').select('name');
    expect(anchors.map((a) => a.name).sort()).toEqual(['dev-root', 'ops-root']);
    const port = await freePort();
    const mtlsPort = await freePort();
    const again = await serve(loadConfig({ env: { ...env, CERTBOUND_PORT: String(port), CERTBOUND_MTLS_PORT: String(mtlsPort) } }), pino({ level: 'silent' }), () => {});
    await again.close();
    expect((await (await running.knex())('clients').where({ client_id: 'demo-client' })).length).toBe(1);
    expect((await (await running.knex())('trust_anchors').select('name')).length).toBe(2);
  });

  it('production mode without TLS settings refuses to start, naming the variables', () => {
    expect(() => loadConfig({ env: { ...env, CERTBOUND_ENV: 'production' } })).toThrow(/CERTBOUND_TLS_CERT/);
  });
});

describe('serve in production mode on a database without an active signing key', () => {
  it('refuses to start with what to run, as an error without a stack trace', async () => {
    const empty = await createTestDatabase();
    try {
      const pkiDir = path.join(env.CERTBOUND_DATA_DIR!, 'dev-pki');
      const cfg = loadConfig({
        env: {
          CERTBOUND_ENV: 'production',
          CERTBOUND_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'certbound-nokey-')),
          CERTBOUND_DATABASE_URL: empty.url,
          CERTBOUND_ISSUER: 'https://as.certbound.test',
          CERTBOUND_MTLS_URL: 'https://mtls.certbound.test',
          CERTBOUND_HOST: '127.0.0.1',
          CERTBOUND_PORT: String(await freePort()),
          CERTBOUND_MTLS_PORT: String(await freePort()),
          CERTBOUND_TLS_CERT: path.join(pkiDir, 'server.pem'),
          CERTBOUND_TLS_KEY: path.join(pkiDir, 'server.key'),
        },
      });
      const err = await serve(cfg, pino({ level: 'silent' }), () => {}).then(
        (r) => r.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'ERR_NO_ACTIVE_KEY' });
      expect((err as { explain(): string }).explain()).toMatch(/There is no active signing key.*\n {2}→ Run `certbound keys rotate`/s);
    } finally {
      await empty.drop();
    }
  });
});

describe('serve with CERTBOUND_MIGRATE_ON_START=false', () => {
  it('refuses a database without the certbound schema, naming `certbound migrate`, and creates no table', async () => {
    const empty = await createTestDatabase({ migrate: false });
    try {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'certbound-nomigrate-serve-'));
      const cfg = loadConfig({
        env: {
          CERTBOUND_DATA_DIR: dataDir,
          CERTBOUND_DATABASE_URL: empty.url,
          CERTBOUND_PORT: String(await freePort()),
          CERTBOUND_MTLS_PORT: String(await freePort()),
          CERTBOUND_MIGRATE_ON_START: 'false',
        },
      });
      const err = await serve(cfg, pino({ level: 'silent' }), () => {}).then(
        (r) => r.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'ERR_DATABASE_NOT_CURRENT', message: 'The database has no certbound schema yet.' });
      expect((err as { explain(): string }).explain()).toMatch(/run `certbound migrate`/);
      expect(await empty.db.schema.hasTable('knex_migrations')).toBe(false);
    } finally {
      await empty.drop();
    }
  });
});
