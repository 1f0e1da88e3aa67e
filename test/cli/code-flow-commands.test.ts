/**
 * The CLI for the authorization code flow, in-process on a real database: `client add|update|show|list`
 * with grant types, redirect URIs, PAR and public clients; `upstream set|show|remove` (the secret from a
 * file, never printed); `consent list|revoke`; `refresh-token list|revoke`. Refusals exit 2, name the
 * flag, and write nothing.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consents, createOidcAdapter } from '../../src/store/index.js';
import { runCliCaptured } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
let dir: string;
let env: Record<string, string>;
const SECRET = 'upstream-secret-7f3a';

const cli = (...argv: string[]) => runCliCaptured(env, ...argv);
const handleOf = (id: string) => createHash('sha256').update(id).digest('base64url').slice(0, 16);

async function counts() {
  const n = async (t: string) => Number((await database.db(t).count({ n: '*' }))[0]!.n);
  return {
    clients: await n('clients'),
    audit: await n('audit_log'),
    upstream: await n('upstream_providers'),
    consents: await n('user_consents'),
    payloads: await n('oidc_payloads'),
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-cli-code-'));
  writeFileSync(path.join(dir, 'secret.txt'), `${SECRET}\n`);
  writeFileSync(path.join(dir, 'key.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  env = { CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: dir };
  expect((await cli('resource', 'add', '--id', 'https://api.example.com', '--scope', 'read')).code).toBe(0);
});
afterAll(() => database?.drop());

describe('clients of the authorization code flow', () => {
  it('client add: a confidential client with grant types and redirect URIs; show and list say so', async () => {
    const r = await cli(
      'client',
      'add',
      '--id',
      'web',
      '--san-dns',
      'web.example.com',
      '--scope',
      'read',
      '--grant-types',
      'authorization_code,refresh_token',
      '--redirect-uri',
      'https://app.example.com/cb',
      '--redirect-uri',
      'http://127.0.0.1:9000/cb',
    );
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toBe('client web (tls_client_auth): san_dns=web.example.com; grants authorization_code, refresh_token');
    const shown = await cli('client', 'show', 'web');
    expect(shown.out).toContain('grant types: authorization_code, refresh_token');
    expect(shown.out).toContain('redirect URIs: https://app.example.com/cb http://127.0.0.1:9000/cb');
    expect(shown.out).toContain('pushed authorization requests: required');
    expect(JSON.parse((await cli('client', 'show', 'web', '--json')).out)).toMatchObject({
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://app.example.com/cb', 'http://127.0.0.1:9000/cb'],
      require_pushed_authorization_requests: true,
    });
    const list = (await cli('client', 'list')).out.split('\n');
    expect(list[0]).toMatch(/^CLIENT\s+METHOD\s+SCOPES\s+GRANTS\s+SUBJECT$/);
    expect(list.find((l) => l.startsWith('web '))).toContain('authorization_code,refresh_token');
  });

  it('PUB-1: client add --public: no mapping, PAR optional with --no-par', async () => {
    const r = await cli(
      'client',
      'add',
      '--id',
      'mobile',
      '--public',
      '--grant-types',
      'authorization_code refresh_token',
      '--redirect-uri',
      'http://127.0.0.1:7000/cb',
      '--no-par',
    );
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toBe('client mobile (none); grants authorization_code, refresh_token');
    const shown = await cli('client', 'show', 'mobile');
    expect(shown.out).toContain('auth method: none (public client: its certificate proves possession only)');
    expect(shown.out).toContain('pushed authorization requests: optional');
    expect((await cli('client', 'list')).out).toContain('any certificate (public client: proof of possession only)');
  });

  it('client update: grant types, redirect URIs and PAR; --no-redirect-uris with client_credentials only', async () => {
    expect((await cli('client', 'update', 'web', '--par', 'off', '--redirect-uri', 'https://app.example.com/cb2')).code).toBe(0);
    expect(JSON.parse((await cli('client', 'show', 'web', '--json')).out)).toMatchObject({
      redirect_uris: ['https://app.example.com/cb2'],
      require_pushed_authorization_requests: false,
    });
    expect((await cli('client', 'update', 'web', '--grant-types', 'client_credentials', '--no-redirect-uris')).code).toBe(0);
    expect(JSON.parse((await cli('client', 'show', 'web', '--json')).out)).toMatchObject({ grant_types: ['client_credentials'], redirect_uris: [] });
  });

  it.each([
    [['client', 'add', '--id', 'x1', '--san-dns', 'x1.example.com', '--grant-types', 'authorization_code'], /--redirect-uri https:\/\/app\.example\.com\/callback/],
    [['client', 'add', '--id', 'x2', '--san-dns', 'x2.example.com', '--grant-types', 'refresh_token'], /refresh_token needs authorization_code/],
    [
      ['client', 'add', '--id', 'x3', '--san-dns', 'x3.example.com', '--grant-types', 'password'],
      /^error: --grant-types: This server does not serve the grant type\(s\) "password"/,
    ],
    [['client', 'add', '--id', 'x4', '--public', '--grant-types', 'client_credentials'], /A public client cannot use client_credentials/],
    [
      ['client', 'add', '--id', 'x5', '--public', '--san-dns', 'x5.example.com', '--redirect-uri', 'https://a.example.com/cb'],
      /^error: a subject or SAN option: A public client has no certificate mapping/,
    ],
    [['client', 'add', '--id', 'x6', '--public', '--no-bound-tokens', '--redirect-uri', 'https://a.example.com/cb'], /^error: --no-bound-tokens \(--bound-tokens off\): /],
    [
      ['client', 'add', '--id', 'x7', '--san-dns', 'x7.example.com', '--grant-types', 'authorization_code', '--redirect-uri', 'https://a.example.com/cb#frag'],
      /^error: --redirect-uri: .*fragment/,
    ],
    [
      ['client', 'add', '--id', 'x8', '--san-dns', 'x8.example.com', '--grant-types', 'authorization_code', '--redirect-uri', 'cb'],
      /^error: --redirect-uri: "cb" is not an absolute URL/,
    ],
    [
      [
        'client',
        'add',
        '--id',
        'x9',
        '--san-dns',
        'x9.example.com',
        '--grant-types',
        'authorization_code',
        '--redirect-uri',
        'https://a.example.com/cb',
        '--redirect-uri',
        'https://a.example.com/cb',
      ],
      /given twice/,
    ],
    [
      ['client', 'add', '--id', 'x10', '--san-dns', 'x10.example.com', '--redirect-uri', 'https://a.example.com/cb'],
      /^error: --redirect-uri: Redirect URIs are used by authorization_code only/,
    ],
    [['client', 'update', 'mobile', '--grant-types', 'authorization_code,client_credentials'], /A public client cannot use client_credentials/],
    [['client', 'update', 'mobile', '--par', 'maybe'], /--par "maybe": use on or off/],
    [['client', 'update', 'mobile', '--bound-tokens', 'off'], /^error: --no-bound-tokens \(--bound-tokens off\): A public client's tokens are always bound/],
  ])('refuses %j with exit 2 and writes nothing', async (argv, message) => {
    const before = await counts();
    const r = await cli(...argv);
    expect(r.code, r.out).toBe(2);
    expect(r.err).toMatch(message);
    expect(await counts()).toEqual(before);
  });
});

describe('certbound upstream', () => {
  it('show before set: not configured, with the command that configures it', async () => {
    const r = await cli('upstream', 'show');
    expect(r.code).toBe(2);
    expect(r.err).toContain('No upstream OpenID Provider is configured');
    expect(r.err).toContain('certbound upstream set --issuer URL');
  });

  it('set with --client-secret-file: the secret is stored, never printed by set, show or the audit list', async () => {
    const r = await cli(
      'upstream',
      'set',
      '--issuer',
      'https://login.example.com',
      '--client-id',
      'certbound',
      '--client-secret-file',
      path.join(dir, 'secret.txt'),
      '--scope',
      'openid email',
      '--subject-claim',
      'email',
    );
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toBe('upstream provider https://login.example.com (client certbound, client_secret_basic)');
    expect((await database.db('upstream_providers').first())?.client_secret).toBe(SECRET);
    const shown = await cli('upstream', 'show');
    expect(shown.out).toContain('client secret: set');
    expect(shown.out).toContain('subject claim: email');
    const json = await cli('upstream', 'show', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ client_secret_set: true, scope: 'openid email' });
    const audit = await cli('audit', 'list', '--json');
    for (const out of [r.out, shown.out, json.out, audit.out]) expect(out).not.toContain(SECRET);
  });

  it('set with --private-key: private_key_jwt, shown by the public JWK thumbprint', async () => {
    const r = await cli('upstream', 'set', '--issuer', 'https://login.example.com', '--client-id', 'certbound', '--private-key', path.join(dir, 'key.pem'));
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toContain('private_key_jwt');
    expect((await cli('upstream', 'show')).out).toMatch(/private key: EC ES256, public JWK thumbprint [A-Za-z0-9_-]{43}/);
  });

  it.each([
    [['--issuer', 'http://login.example.com', '--client-id', 'c', '--client-secret-file', 'SECRET'], /^error: --issuer: The issuer must be https/],
    [['--issuer', 'https://login.example.com', '--client-id', 'c', '--client-secret-file', 'SECRET', '--scope', 'email'], /^error: --scope: The scopes must include openid/],
    [['--issuer', 'https://login.example.com', '--client-id', 'c'], /^error: --client-secret-file: client_secret_basic needs the client secret/],
    [['--issuer', 'https://login.example.com', '--client-id', 'c', '--client-secret-file', 'nope.txt'], /--client-secret-file .*cannot read/],
    [['--issuer', 'https://login.example.com', '--client-id', 'c', '--private-key', 'SECRET'], /^error: --private-key: The private key does not parse/],
    [
      ['--issuer', 'https://login.example.com', '--client-id', 'c', '--client-secret-file', 'SECRET', '--private-key', 'KEY'],
      /^error: --private-key: A private key is for private_key_jwt/,
    ],
  ])('set refuses %j with exit 2, and the provider stays as it was', async (args, message) => {
    const argv = args.map((a) => (a === 'SECRET' ? path.join(dir, 'secret.txt') : a === 'KEY' ? path.join(dir, 'key.pem') : a === 'nope.txt' ? path.join(dir, 'nope.txt') : a));
    const before = { counts: await counts(), row: await database.db('upstream_providers').first() };
    const r = await cli('upstream', 'set', ...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain(SECRET);
    expect({ counts: await counts(), row: await database.db('upstream_providers').first() }).toEqual(before);
  });

  it('--help says the secret comes from a file or standard input, never the command line', async () => {
    const help = await cli('upstream', 'set', '--help');
    expect(help.out).toContain('--client-secret-file <file>');
    expect(help.out).toMatch(/or - to read it from standard input/);
    expect(help.out).not.toMatch(/--client-secret </);
  });

  it('remove: gone; show says so again', async () => {
    expect((await cli('upstream', 'remove')).out).toContain('removed the upstream provider');
    expect((await cli('upstream', 'show')).code).toBe(2);
    expect((await cli('upstream', 'remove')).code).toBe(2);
  });
});

describe('certbound consent and refresh-token', () => {
  let rt: string;
  beforeAll(async () => {
    const Adapter = createOidcAdapter(database.db, async () => undefined);
    const now = new Date();
    await consents.save(database.db, {
      accountId: 'alice',
      clientId: 'mobile',
      scopes: ['openid', 'read'],
      resources: ['https://api.example.com'],
      grantedAt: now,
      updatedAt: now,
    });
    await consents.save(database.db, { accountId: 'bob', clientId: 'mobile', scopes: ['openid'], resources: [], grantedAt: now, updatedAt: now });
    for (const [grantId, accountId] of [
      ['g1', 'alice'],
      ['g2', 'bob'],
    ]) {
      const common = { grantId, clientId: 'mobile', accountId, iat: Math.floor(Date.now() / 1000), 'x5t#S256': 'T'.repeat(43) };
      await new Adapter('AccessToken').upsert(`at-${grantId}`, { ...common, scope: 'openid read' }, 600);
      await new Adapter('RefreshToken').upsert(`rt-${grantId}`, { ...common, scope: 'openid read' }, 86_400);
    }
    rt = 'rt-g2';
  });

  it('consent list: a table, filtered by client and user; --json', async () => {
    const all = await cli('consent', 'list');
    expect(all.out.split('\n')[0]).toMatch(/^CLIENT\s+USER\s+SCOPES\s+RESOURCES\s+GRANTED$/);
    expect(all.out).toContain('alice');
    expect(all.out).toContain('bob');
    expect(JSON.parse((await cli('consent', 'list', '--user', 'bob', '--json')).out)).toEqual([expect.objectContaining({ client_id: 'mobile', user: 'bob', scope: 'openid' })]);
    expect((await cli('consent', 'list', '--client', 'web')).out).toBe('no consents');
  });

  it('refresh-token list: handles, never the tokens; the bound thumbprint', async () => {
    const list = await cli('refresh-token', 'list', '--client', 'mobile');
    expect(list.out.split('\n')[0]).toMatch(/^HANDLE\s+CLIENT\s+USER\s+X5T#S256\s+SCOPES\s+ISSUED\s+EXPIRES\s+STATE$/);
    expect(list.out).toContain(handleOf('rt-g1'));
    expect(list.out).toContain('T'.repeat(43));
    expect(list.out).not.toContain('rt-g1');
    expect(JSON.parse((await cli('refresh-token', 'list', '--user', 'bob', '--json')).out)).toEqual([expect.objectContaining({ handle: handleOf(rt), user: 'bob' })]);
  });

  it("consent revoke: says that the user's tokens at the client went too", async () => {
    const r = await cli('consent', 'revoke', '--client', 'mobile', '--user', 'alice');
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toBe('revoked the consent of user alice to client mobile, and 2 tokens of that user at that client (refresh tokens included)');
    expect((await cli('refresh-token', 'list')).out).not.toContain(handleOf('rt-g1'));
    const again = await cli('consent', 'revoke', '--client', 'mobile', '--user', 'alice');
    expect(again.code).toBe(2);
    expect(again.err).toContain('certbound consent list --client mobile');
  });

  it('refresh-token revoke: by handle, with its grant; an unknown handle exits 2 and changes nothing', async () => {
    const before = await counts();
    const unknown = await cli('refresh-token', 'revoke', 'AAAAAAAAAAAAAAAA');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('certbound refresh-token list');
    expect(await counts()).toEqual(before);
    const r = await cli('refresh-token', 'revoke', '--', handleOf(rt));
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toBe(`revoked refresh token ${handleOf(rt)} (client mobile, user bob) and its grant: 2 tokens`);
    expect((await cli('refresh-token', 'list')).out).toBe('no refresh tokens');
  });
});
