/**
 * `certbound dev-pki issue-client`: a newcomer makes a second test client from the dev PKI, registers it
 * with the printed `certbound client add` line, and gets a token bound to the new certificate from a
 * development-mode server over real mTLS (RFC 8705 §2.1.1 tls_client_auth, §3 BT: cnf.x5t#S256).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config/index.js';
import { type RunningServer, serve } from '../../src/main.js';
import { parseCertificate, parsePemCertificates, x5tS256 } from '../../src/pki/index.js';
import { runCliCaptured } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';

let database: TestDatabase;
let dataDir: string;
let env: Record<string, string>;
let running: RunningServer | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'certbound-issue-client-'));
  env = {
    CERTBOUND_DATA_DIR: dataDir,
    CERTBOUND_DATABASE_URL: database.url,
    CERTBOUND_PORT: String(await freePort()),
    CERTBOUND_MTLS_PORT: String(await freePort()),
    CERTBOUND_HOST: '127.0.0.1',
  };
});
afterAll(async () => {
  await running?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The words of a printed command line (the CLI quotes a word with single quotes when it must). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] === undefined ? m[2]! : m[1].replace(/'\\''/g, "'")));
}

function printedCommand(out: string, program: string): string[] {
  const line = out.split('\n').find((l) => l.trim().startsWith(`${program} `));
  expect(line, `no "${program} …" line in:\n${out}`).toBeDefined();
  return shellWords(line!.trim()).slice(1);
}

/** The demo API development mode registers: the printed line maps a client for it. */
const DEMO = ['--scope', 'demo.read demo.write', '--resource', 'https://demo-api.certbound.test'];

const leafDer = (pem: string) => parsePemCertificates(pem)[0]!;

describe('certbound dev-pki issue-client (development mode)', () => {
  it('issues a clientAuth certificate from the dev PKI; the printed client add line maps it, and a real server binds the token to it (PKI-1, X-12 EKU clientAuth, BT-8 cnf.x5t#S256)', async () => {
    // `npm start` on a fresh data directory: development mode creates the dev PKI, trusts its root and
    // registers the demo API
    running = await serve(loadConfig({ env }), pino({ level: 'silent' }), () => {});
    const pkiDir = path.join(dataDir, 'dev-pki');
    expect(statSync(path.join(pkiDir, 'intermediate.key')).mode & 0o777).toBe(0o600);

    const issued = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'orders-worker');
    expect(issued.err).toBe('');
    expect(issued.code).toBe(0);
    const certPath = /certificate \(followed by the issuing CA\): (\S+)/.exec(issued.out)?.[1];
    const keyPath = /private key: (\S+)/.exec(issued.out)?.[1];
    expect(certPath).toBe(path.join(pkiDir, 'clients', 'orders-worker.pem'));
    expect(keyPath).toBe(path.join(pkiDir, 'clients', 'orders-worker.key'));
    expect(statSync(keyPath!).mode & 0o777).toBe(0o600);

    // what the server's leaf policy asks of a client certificate (docs/x509-policy.md)
    const chain = parsePemCertificates(readFileSync(certPath!, 'utf8'));
    expect(chain).toHaveLength(2);
    const leaf = parseCertificate(chain[0]!);
    expect(leaf.subjectRfc4514).toBe('CN=orders-worker,O=certbound development');
    expect(leaf.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(leaf.keyUsage).toEqual(['digitalSignature']);
    expect(leaf.basicConstraints).toEqual({ ca: false });
    expect(chain[1]).toEqual(leafDer(readFileSync(path.join(pkiDir, 'intermediate.pem'), 'utf8')));
    const thumbprint = x5tS256(chain[0]!);
    expect(issued.out).toContain(`x5t#S256 ${thumbprint}`);

    const add = printedCommand(issued.out, 'certbound');
    expect(add.slice(0, 2)).toEqual(['client', 'add']);
    const added = await runCliCaptured(env, ...add);
    expect(added.err).toBe('');
    expect(added.code).toBe(0);
    expect(added.out).toContain('client orders-worker (tls_client_auth): san_dns=orders-worker.certbound.test');

    // the running server, with the client registered while it runs
    const client = createTokenClient({
      issuer: running.config.issuer,
      clientId: 'orders-worker',
      credentials: { certFile: certPath!, keyFile: keyPath! },
      tls: { ca: readFileSync(path.join(pkiDir, 'ca.pem'), 'utf8') },
      watch: false,
    });
    try {
      const token = await client.getToken();
      expect(token.thumbprint).toBe(thumbprint);
      expect(decodeJwt(token.accessToken)).toMatchObject({
        client_id: 'orders-worker',
        aud: 'https://demo-api.certbound.test',
        scope: 'demo.read demo.write',
        cnf: { 'x5t#S256': thumbprint },
      });
    } finally {
      await client.close();
    }
  });

  it('--subject without --san-dns: a certificate without SANs, mapped by its subject DN (PKI-4: RFC 4514 order kept)', async () => {
    const issued = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'billing', '--subject', 'CN=billing job,OU=Payments,O=Acme');
    expect(issued.code).toBe(0);
    const certPath = path.join(dataDir, 'dev-pki', 'clients', 'billing.pem');
    const leaf = parseCertificate(leafDer(readFileSync(certPath, 'utf8')));
    expect(leaf.subjectRfc4514).toBe('CN=billing job,OU=Payments,O=Acme');
    expect(leaf.san.dns).toEqual([]);
    expect(printedCommand(issued.out, 'certbound')).toEqual(['client', 'add', '--id', 'billing', '--from-cert', certPath, '--match', 'subject-dn', ...DEMO]);
  });

  it('several --san-dns: the printed line picks the first with --value', async () => {
    const issued = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'multi', '--san-dns', 'a.example.test', 'b.example.test');
    expect(issued.code).toBe(0);
    const certPath = path.join(dataDir, 'dev-pki', 'clients', 'multi.pem');
    expect(printedCommand(issued.out, 'certbound')).toEqual([
      'client',
      'add',
      '--id',
      'multi',
      '--from-cert',
      certPath,
      '--match',
      'san-dns',
      '--value',
      'a.example.test',
      ...DEMO,
    ]);
  });

  it('refuses bad input with what to do, and writes nothing: a name already issued, a bad name, a bad SAN, a bad subject', async () => {
    const clients = path.join(dataDir, 'dev-pki', 'clients');
    const before = readFileSync(path.join(clients, 'orders-worker.pem'), 'utf8');
    const again = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'orders-worker');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/A client named orders-worker was already issued .*\n.*Pick another --name/);
    expect(readFileSync(path.join(clients, 'orders-worker.pem'), 'utf8')).toBe(before);

    const badName = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', '../escape');
    expect(badName.code).toBe(2);
    expect(badName.err).toMatch(/--name "\.\.\/escape" is not usable as a client name/);
    const badSan = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'bad-san', '--san-dns', 'not a host');
    expect(badSan.code).toBe(2);
    expect(badSan.err).toMatch(/--san-dns "not a host" is not a DNS name/);
    const badSubject = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'bad-subject', '--subject', 'no equals sign');
    expect(badSubject.code).toBe(2);
    expect(badSubject.err).toMatch(/--subject "no equals sign" is not a distinguished name.*\n.*RFC 4514/);
    for (const name of ['escape', 'bad-san', 'bad-subject']) expect(existsSync(path.join(clients, `${name}.pem`))).toBe(false);
  });

  it('a dev PKI made before the CA key was kept (no intermediate.key) is refused with how to recreate it', async () => {
    const old = mkdtempSync(path.join(tmpdir(), 'certbound-old-pki-'));
    try {
      expect((await runCliCaptured(env, 'dev-pki', '--out', old)).code).toBe(0);
      rmSync(path.join(old, 'intermediate.key'));
      const refused = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'late', '--pki', old);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain(`The development PKI in ${old} has no issuing CA key (intermediate.key)`);
      expect(refused.err).toContain(`certbound dev-pki --out ${old} --force`);
      expect(existsSync(path.join(old, 'clients'))).toBe(false);
      const none = await runCliCaptured(env, 'dev-pki', 'issue-client', '--name', 'late', '--pki', path.join(old, 'missing'));
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/holds no development PKI/);
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('is refused in production mode', async () => {
    const pkiDir = path.join(dataDir, 'dev-pki');
    const production = {
      ...env,
      CERTBOUND_ENV: 'production',
      CERTBOUND_ISSUER: 'https://as.certbound.test',
      CERTBOUND_MTLS_URL: 'https://mtls.certbound.test',
      CERTBOUND_TLS_CERT: path.join(pkiDir, 'server.pem'),
      CERTBOUND_TLS_KEY: path.join(pkiDir, 'server.key'),
    };
    const refused = await runCliCaptured(production, 'dev-pki', 'issue-client', '--name', 'prod-client');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/development mode only.*\n.*have your own CA issue the client certificate/);
    expect(existsSync(path.join(pkiDir, 'clients', 'prod-client.pem'))).toBe(false);
  });

  it('certbound dev-pki keeps its own contract: --out is required when no subcommand is given, and --help lists issue-client', async () => {
    const missing = await runCliCaptured(env, 'dev-pki');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("error: required option '--out <dir>' not specified");
    const help = await runCliCaptured(env, 'dev-pki', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--out <dir>/);
    expect(help.out).toMatch(/issue-client \[options\]/);
    const subHelp = await runCliCaptured(env, 'dev-pki', 'issue-client', '--help');
    expect(subHelp.code).toBe(0);
    expect(subHelp.out).toMatch(/--name <name>/);
    expect(subHelp.out).not.toMatch(/--out/);
  });
});
