/**
 * The upstream OpenID Provider through the use cases, on a real database: set with a client secret or a
 * private key (JWK or PEM), shown without either, audited without either; refusals name their member and
 * change nothing; the optional check fetches the issuer's discovery document from a loopback server.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiWording } from '../../src/admin-api/error-wording.js';
import { upstreamJson } from '../../src/admin-api/serializers.js';
import { createAdminService, type SetUpstreamInput } from '../../src/app/service.js';
import { explainForCli } from '../../src/cli/error-wording.js';
import { upstreamProviders } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { refusal } from '../helpers/errors.js';

let database: TestDatabase;
let admin: ReturnType<typeof createAdminService>;
let discovery: Server;
let loopbackIssuer: string;
/** What the loopback provider answers at its discovery URL. */
let served: { status: number; body: Record<string, unknown> };

const SECRET = 's3cr3t-value-never-shown';
const BASE: SetUpstreamInput = { issuer: 'https://login.example.com/realms/staff', clientId: 'certbound', authMethod: 'client_secret_basic', clientSecret: SECRET };

async function snapshot() {
  return { provider: await upstreamProviders.find(database.db, undefined), audit: Number((await database.db('audit_log').count({ n: '*' }))[0]!.n) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  discovery = createServer((req, res) => {
    if (req.url !== '/.well-known/openid-configuration') return res.writeHead(404).end();
    res.writeHead(served.status, { 'content-type': 'application/json' }).end(JSON.stringify(served.body));
  });
  await new Promise<void>((resolve) => discovery.listen(0, '127.0.0.1', resolve));
  loopbackIssuer = `http://127.0.0.1:${(discovery.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => discovery?.close(resolve));
  await database?.drop();
});

describe('the upstream provider', () => {
  it('is not configured at first: show and remove say so (404)', async () => {
    expect(await refusal(admin.showUpstream())).toMatchObject({ code: 'ERR_UPSTREAM_UNKNOWN', status: 404 });
    expect(await refusal(admin.removeUpstream('test'))).toMatchObject({ code: 'ERR_UPSTREAM_UNKNOWN', status: 404 });
  });

  it('set with client_secret_basic: stored with the secret, shown and audited without it', async () => {
    const view = await admin.setUpstream({ ...BASE, scopes: ['openid', 'email'], subjectClaim: 'email' }, 'cli:alice');
    expect(view).toMatchObject({
      issuer: BASE.issuer,
      clientId: 'certbound',
      authMethod: 'client_secret_basic',
      clientSecretSet: true,
      privateKey: null,
      scopes: ['openid', 'email'],
      subjectClaim: 'email',
    });
    expect((await upstreamProviders.find(database.db, undefined))?.clientSecret).toBe(SECRET);
    const shown = upstreamJson(await admin.showUpstream());
    expect(shown).toMatchObject({ client_secret_set: true, scope: 'openid email', subject_claim: 'email', token_endpoint_auth_method: 'client_secret_basic' });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    const audit = await admin.listAudit({ target: 'upstream:default' });
    expect(audit).toEqual([expect.objectContaining({ actor: 'cli:alice', action: 'upstream.set', after: expect.objectContaining({ clientSecretSet: true }) })]);
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('defaults: scope openid, subject claim sub', async () => {
    expect(await admin.setUpstream(BASE, 'test')).toMatchObject({ scopes: ['openid'], subjectClaim: 'sub' });
  });

  it.each([
    ['an EC P-256 key as PEM', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'EC', 'ES256'],
    ['an RSA key as a JWK', () => JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })), 'RSA', 'RS256'],
    ['an Ed25519 key as PEM', () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'OKP', 'EdDSA'],
  ])('set with private_key_jwt and %s: shown by its public thumbprint, the key never shown or audited', async (_title, key, kty, alg) => {
    const privateKey = key();
    const view = await admin.setUpstream({ issuer: BASE.issuer, clientId: 'certbound', authMethod: 'private_key_jwt', privateKey }, 'test');
    expect(view).toMatchObject({ authMethod: 'private_key_jwt', clientSecretSet: false, privateKey: { kty, alg, thumbprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) } });
    const stored = (await upstreamProviders.find(database.db, undefined))!;
    expect(stored).toMatchObject({ clientSecret: null, privateJwk: expect.objectContaining({ kty, alg, kid: view.privateKey!.thumbprint, d: expect.any(String) }) });
    const d = String(stored.privateJwk!.d);
    expect(JSON.stringify(upstreamJson(await admin.showUpstream()))).not.toContain(d);
    expect(JSON.stringify(await admin.listAudit({ target: 'upstream:default' }))).not.toContain(d);
  });

  it('private_key_jwt with a JWK that names its kid: the assertions keep that kid (the provider knows the key by it)', async () => {
    const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'certbound-2027' };
    const view = await admin.setUpstream({ issuer: BASE.issuer, clientId: 'certbound', authMethod: 'private_key_jwt', privateKey: JSON.stringify(jwk) }, 'test');
    expect(view.privateKey).toMatchObject({ kid: 'certbound-2027', alg: 'ES256' });
    expect(view.privateKey!.thumbprint).not.toBe('certbound-2027');
    expect((await upstreamProviders.find(database.db, undefined))?.privateJwk).toMatchObject({ kid: 'certbound-2027' });
  });

  const refusals: { title: string; input: SetUpstreamInput; code: string; member: string; cli: RegExp; api: RegExp }[] = [
    {
      title: 'an http issuer on a public host',
      input: { ...BASE, issuer: 'http://login.example.com' },
      code: 'ERR_UPSTREAM_INVALID',
      member: 'issuer',
      cli: /^--issuer: The issuer must be https/,
      api: /^issuer: /,
    },
    {
      title: 'a relative issuer',
      input: { ...BASE, issuer: 'login.example.com' },
      code: 'ERR_UPSTREAM_INVALID',
      member: 'issuer',
      cli: /^--issuer: "login\.example\.com" is not an absolute URL/,
      api: /^issuer: /,
    },
    {
      title: 'an issuer with a query',
      input: { ...BASE, issuer: 'https://login.example.com/?x=1' },
      code: 'ERR_UPSTREAM_INVALID',
      member: 'issuer',
      cli: /^--issuer: .*query/,
      api: /^issuer: /,
    },
    {
      title: 'scopes without openid',
      input: { ...BASE, scopes: ['email'] },
      code: 'ERR_UPSTREAM_INVALID',
      member: 'scopes',
      cli: /^--scope: The scopes must include openid/,
      api: /^scope: The scopes must include openid/,
    },
    { title: 'a client id with a space', input: { ...BASE, clientId: 'cert bound' }, code: 'ERR_UPSTREAM_INVALID', member: 'clientId', cli: /^--client-id: /, api: /^client_id: / },
    {
      title: 'a subject claim with a space',
      input: { ...BASE, subjectClaim: 'a b' },
      code: 'ERR_UPSTREAM_INVALID',
      member: 'subjectClaim',
      cli: /^--subject-claim: /,
      api: /^subject_claim: /,
    },
    {
      title: 'client_secret_basic without a secret',
      input: { ...BASE, clientSecret: undefined },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'clientSecret',
      cli: /^--client-secret-file: client_secret_basic needs the client secret/,
      api: /^client_secret: /,
    },
    {
      title: 'a secret with a line break',
      input: { ...BASE, clientSecret: 'a\nb' },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'clientSecret',
      cli: /^--client-secret-file: .*control characters/,
      api: /^client_secret: /,
    },
    {
      title: 'client_secret_basic with a private key',
      input: { ...BASE, privateKey: '{}' },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'privateKey',
      cli: /^--private-key: A private key is for private_key_jwt/,
      api: /^private_key: /,
    },
    {
      title: 'private_key_jwt with a secret',
      input: { ...BASE, authMethod: 'private_key_jwt' },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'clientSecret',
      cli: /^--client-secret-file: A client secret is for client_secret_basic/,
      api: /^client_secret: /,
    },
    {
      title: 'private_key_jwt without a key',
      input: { ...BASE, authMethod: 'private_key_jwt', clientSecret: undefined },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'privateKey',
      cli: /^--private-key: private_key_jwt needs the private key/,
      api: /^private_key: /,
    },
    {
      title: 'a public key given as the private key',
      input: {
        ...BASE,
        authMethod: 'private_key_jwt',
        clientSecret: undefined,
        privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'privateKey',
      cli: /^--private-key: The private key does not parse/,
      api: /^private_key: /,
    },
    {
      title: 'a symmetric JWK',
      input: { ...BASE, authMethod: 'private_key_jwt', clientSecret: undefined, privateKey: '{"kty":"oct","k":"c2VjcmV0"}' },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'privateKey',
      cli: /^--private-key: The private key does not parse/,
      api: /^private_key: /,
    },
    {
      title: 'an RSA key of 1024 bits',
      input: {
        ...BASE,
        authMethod: 'private_key_jwt',
        clientSecret: undefined,
        privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      },
      code: 'ERR_UPSTREAM_CREDENTIALS',
      member: 'privateKey',
      cli: /^--private-key: The RSA key has 1024 bits/,
      api: /^private_key: /,
    },
  ];

  it.each(refusals)('refuses $title ($code, $member), worded by both surfaces, changing nothing', async ({ input, code, member, cli, api }) => {
    const before = await snapshot();
    const err = await refusal(admin.setUpstream(input, 'test'));
    expect(err).toMatchObject({ code, status: 400, details: expect.objectContaining({ member }) });
    expect(explainForCli(err)).toMatch(cli);
    expect(adminApiWording(err).message).toMatch(api);
    expect(await snapshot()).toEqual(before);
  });

  it('check: a loopback issuer whose discovery document names it and lists the method is saved', async () => {
    served = {
      status: 200,
      body: { issuer: loopbackIssuer, authorization_endpoint: `${loopbackIssuer}/auth`, token_endpoint: `${loopbackIssuer}/token`, jwks_uri: `${loopbackIssuer}/jwks` },
    };
    expect(await admin.setUpstream({ ...BASE, issuer: loopbackIssuer }, 'test', { check: true })).toMatchObject({ issuer: loopbackIssuer });
  });

  it.each([
    [
      'names another issuer',
      () => ({ status: 200, body: { issuer: 'https://elsewhere.example.com', authorization_endpoint: 'x', token_endpoint: 'y', jwks_uri: 'z' } }),
      /names the issuer "https:\/\/elsewhere\.example\.com"/,
    ],
    ['answers 500', () => ({ status: 500, body: {} }), /answered HTTP 500/],
    ['lacks the token endpoint', () => ({ status: 200, body: { issuer: loopbackIssuer, authorization_endpoint: 'x', jwks_uri: 'z' } }), /has no token_endpoint/],
    [
      'does not list private_key_jwt',
      () => ({
        status: 200,
        body: { issuer: loopbackIssuer, authorization_endpoint: 'x', token_endpoint: 'y', jwks_uri: 'z', token_endpoint_auth_methods_supported: ['client_secret_basic'] },
      }),
      /does not list private_key_jwt/,
    ],
  ])('check: refused when the discovery document %s, changing nothing', async (_title, answer, message) => {
    served = answer();
    const before = await snapshot();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const input: SetUpstreamInput = message.source.includes('private_key_jwt')
      ? { issuer: loopbackIssuer, clientId: 'certbound', authMethod: 'private_key_jwt', privateKey: key }
      : { ...BASE, issuer: loopbackIssuer };
    const err = await refusal(admin.setUpstream(input, 'test', { check: true }));
    expect(err).toMatchObject({ code: 'ERR_UPSTREAM_DISCOVERY', status: 400, details: { member: 'issuer' } });
    expect(err.message).toMatch(message);
    expect(explainForCli(err)).toMatch(/without --check/);
    expect(await snapshot()).toEqual(before);
  });

  it('check: an issuer nobody answers at is refused as unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await refusal(admin.setUpstream({ ...BASE, issuer: `http://127.0.0.1:${port}` }, 'test', { check: true }));
    expect(err).toMatchObject({ code: 'ERR_UPSTREAM_DISCOVERY' });
    expect(err.message).toMatch(/could not be fetched/);
  });

  it('remove: gone, audited without secrets; sign-ins have no provider until one is set again', async () => {
    await admin.setUpstream(BASE, 'test');
    await admin.removeUpstream('cli:bob');
    expect(await upstreamProviders.find(database.db, undefined)).toBeUndefined();
    const [entry] = await admin.listAudit({ target: 'upstream:default', action: 'upstream.remove' });
    expect(entry).toMatchObject({ actor: 'cli:bob', before: expect.objectContaining({ issuer: BASE.issuer, clientSecretSet: true }) });
    expect(JSON.stringify(entry)).not.toContain(SECRET);
  });
});

describe('the upstream credentials at rest with CERTBOUND_KEY_ENCRYPTION_KEY', () => {
  const kek = Buffer.alloc(32, 7);
  const otherKek = Buffer.alloc(32, 9);

  it('are stored encrypted (neither the secret nor the private key in the row), read back with the key; without it or with another the use cases refuse and change nothing', async () => {
    const sealed = createAdminService({ db: database.db, signingAlg: 'ES256', keyEncryptionKey: kek });
    await sealed.setUpstream({ ...BASE }, 'test');
    const row = (await database.db('upstream_providers').first()) as Record<string, unknown>;
    expect(String(row.client_secret)).toMatch(/^enc:v1:/);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect((await upstreamProviders.find(database.db, kek))?.clientSecret).toBe(SECRET);
    expect((await sealed.showUpstream()).clientSecretSet).toBe(true);

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const withKey = await sealed.setUpstream({ issuer: BASE.issuer, clientId: 'certbound', authMethod: 'private_key_jwt', privateKey: pem }, 'test');
    const keyRow = (await database.db('upstream_providers').first()) as Record<string, unknown>;
    expect(String(keyRow.private_jwk)).toMatch(/^enc:v1:/);
    expect(String(keyRow.private_jwk)).not.toContain('"d"');
    expect((await upstreamProviders.find(database.db, kek))?.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    expect(await upstreamProviders.isSealed(database.db)).toBe(true);

    const before = await snapshot().catch(() => undefined);
    expect(before).toBeUndefined(); // snapshot reads without the key: refused, as every reader without it is
    const count = async () => Number((await database.db('audit_log').count({ n: '*' }))[0]!.n);
    const audits = await count();
    const plain = createAdminService({ db: database.db, signingAlg: 'ES256' });
    expect(await refusal(plain.showUpstream())).toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_MISSING' });
    // Plaintext credentials never replace encrypted ones.
    expect(await refusal(plain.setUpstream({ ...BASE }, 'test'))).toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_MISSING' });
    const other = createAdminService({ db: database.db, signingAlg: 'ES256', keyEncryptionKey: otherKek });
    expect(await refusal(other.showUpstream())).toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_WRONG' });
    expect(await refusal(other.setUpstream({ ...BASE }, 'test'))).toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_WRONG' });
    expect(await database.db('upstream_providers').first()).toEqual(keyRow);
    expect(await count()).toBe(audits);
    expect(withKey.privateKey?.thumbprint).toEqual(expect.any(String));

    // A sealed value moved to another member does not open (the authenticated data names the member).
    await database.db('upstream_providers').update({ client_secret: keyRow.private_jwk });
    await expect(upstreamProviders.find(database.db, kek)).rejects.toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_WRONG' });

    // A provider whose key-encryption key is lost can still be removed.
    await plain.removeUpstream('test');
    expect(await upstreamProviders.find(database.db, undefined)).toBeUndefined();
    expect(await count()).toBe(audits + 1);
  });
});
