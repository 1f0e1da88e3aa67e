/**
 * Clients of the authorization code flow through the use cases: grant types, redirect URIs, the PAR
 * setting and public clients, on a real database. Every refusal names its member, is worded by both
 * surfaces, and leaves the database as it was (no client, no audit row).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiWording } from '../../src/admin-api/error-wording.js';
import { clientJson } from '../../src/admin-api/serializers.js';
import { type AddClientInput, createAdminService } from '../../src/app/service.js';
import { explainForCli } from '../../src/cli/error-wording.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { refusal } from '../helpers/errors.js';

let database: TestDatabase;
let admin: ReturnType<typeof createAdminService>;
const API = 'https://api.example.com';
const CALLBACK = 'https://app.example.com/callback';

async function counts() {
  const n = async (t: string) => Number((await database.db(t).count({ n: '*' }))[0]!.n);
  return { clients: await n('clients'), audit: await n('audit_log') };
}

/** A flag, a certbound command or an admin route: a surface's words. */
const SURFACE_WORDS = /(^|\s)--[a-z]|certbound [a-z]|\/admin\//;

beforeAll(async () => {
  database = await createTestDatabase();
  admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  await admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
});
afterAll(() => database?.drop());

describe('registering clients of the authorization code flow', () => {
  it('a confidential tls_client_auth client with authorization_code, refresh_token, a redirect URI and PAR required by default', async () => {
    const c = await admin.addClient(
      {
        clientId: 'web-app',
        mapping: { kind: 'san_dns', value: 'web-app.example.com' },
        scopes: ['read'],
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [CALLBACK, 'http://127.0.0.1:8080/cb'],
      },
      'test',
    );
    expect(c).toMatchObject({
      authMethod: 'tls_client_auth',
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [CALLBACK, 'http://127.0.0.1:8080/cb'],
      requirePar: true,
    });
    const stored = await admin.showClient('web-app');
    expect(stored).toMatchObject({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [CALLBACK, 'http://127.0.0.1:8080/cb'], requirePar: true });
    expect(clientJson(stored)).toMatchObject({
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [CALLBACK, 'http://127.0.0.1:8080/cb'],
      require_pushed_authorization_requests: true,
    });
    const [entry] = await admin.listAudit({ target: 'client:web-app' });
    expect(entry).toMatchObject({
      action: 'client.add',
      after: expect.objectContaining({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [CALLBACK, 'http://127.0.0.1:8080/cb'] }),
    });
  });

  it('PUB-1: a public client (token_endpoint_auth_method none) without mapping or keys, tokens bound, PAR optional when asked', async () => {
    const c = await admin.addClient(
      { clientId: 'mobile', publicClient: true, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['http://[::1]:4000/cb'], requirePar: false },
      'test',
    );
    expect(c).toMatchObject({
      authMethod: 'none',
      boundTokens: true,
      jwks: null,
      jwksUri: null,
      mappings: [],
      requirePar: false,
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    expect(await admin.showClient('mobile')).toMatchObject({ authMethod: 'none', requirePar: false, redirectUris: ['http://[::1]:4000/cb'] });
  });

  it('existing clients keep client_credentials, with no redirect URI', async () => {
    const c = await admin.addClient({ clientId: 'batch', mapping: { kind: 'san_dns', value: 'batch.example.com' }, scopes: ['read'] }, 'test');
    expect(c).toMatchObject({ grantTypes: ['client_credentials'], redirectUris: [], requirePar: true });
    expect(clientJson(await admin.showClient('batch'))).toMatchObject({ grant_types: ['client_credentials'], redirect_uris: [] });
  });

  it('a client may have client_credentials and authorization_code together', async () => {
    const c = await admin.addClient(
      { clientId: 'both', mapping: { kind: 'san_dns', value: 'both.example.com' }, grantTypes: ['client_credentials', 'authorization_code'], redirectUris: [CALLBACK] },
      'test',
    );
    expect(c.grantTypes).toEqual(['client_credentials', 'authorization_code']);
  });

  const refusals: { title: string; input: Omit<AddClientInput, 'clientId'>; code: string; member: string; cli: RegExp; api: RegExp }[] = [
    {
      title: 'authorization_code without a redirect URI',
      input: { mapping: { kind: 'san_dns', value: 'r1.example.com' }, grantTypes: ['authorization_code'] },
      code: 'ERR_GRANT_TYPES_INCONSISTENT',
      member: 'redirectUris',
      cli: /--redirect-uri https:\/\/app\.example\.com\/callback/,
      api: /^redirect_uris: authorization_code needs at least one redirect URI/,
    },
    {
      title: 'refresh_token without authorization_code',
      input: { mapping: { kind: 'san_dns', value: 'r2.example.com' }, grantTypes: ['client_credentials', 'refresh_token'] },
      code: 'ERR_GRANT_TYPES_INCONSISTENT',
      member: 'grantTypes',
      cli: /--grant-types authorization_code,refresh_token/,
      api: /^grant_types: refresh_token needs authorization_code/,
    },
    {
      title: 'redirect URIs without authorization_code',
      input: { mapping: { kind: 'san_dns', value: 'r3.example.com' }, redirectUris: [CALLBACK] },
      code: 'ERR_GRANT_TYPES_INCONSISTENT',
      member: 'redirectUris',
      cli: /^--redirect-uri: Redirect URIs are used by authorization_code only/,
      api: /^redirect_uris: Redirect URIs are used/,
    },
    {
      title: 'an unknown grant type',
      input: { mapping: { kind: 'san_dns', value: 'r4.example.com' }, grantTypes: ['implicit'] },
      code: 'ERR_GRANT_TYPE_INVALID',
      member: 'grantTypes',
      cli: /^--grant-types: This server does not serve the grant type\(s\) "implicit"/,
      api: /^grant_types: This server does not serve/,
    },
    {
      title: 'no grant type at all',
      input: { mapping: { kind: 'san_dns', value: 'r5.example.com' }, grantTypes: [] },
      code: 'ERR_GRANT_TYPE_INVALID',
      member: 'grantTypes',
      cli: /^--grant-types: A client needs at least one grant type/,
      api: /^grant_types: /,
    },
    {
      title: 'PUB-1: a public client with client_credentials',
      input: { publicClient: true, grantTypes: ['client_credentials'] },
      code: 'ERR_PUBLIC_CLIENT',
      member: 'grantTypes',
      cli: /A public client cannot use client_credentials[\s\S]*--grant-types authorization_code/,
      api: /^grant_types: A public client cannot use client_credentials/,
    },
    {
      title: 'PUB-1: a public client with a certificate mapping',
      input: { publicClient: true, mapping: { kind: 'san_dns', value: 'r6.example.com' }, grantTypes: ['authorization_code'], redirectUris: [CALLBACK] },
      code: 'ERR_PUBLIC_CLIENT',
      member: 'mapping',
      cli: /^a subject or SAN option: A public client has no certificate mapping and no keys/,
      api: /^mapping: A public client has no certificate mapping/,
    },
    {
      title: 'PUB-2: a public client with bound tokens off',
      input: { publicClient: true, boundTokens: false, grantTypes: ['authorization_code'], redirectUris: [CALLBACK] },
      code: 'ERR_PUBLIC_CLIENT',
      member: 'boundTokens',
      cli: /^--no-bound-tokens \(--bound-tokens off\): A public client's tokens are always bound/,
      api: /^bound_tokens: A public client's tokens are always bound/,
    },
    {
      title: 'a relative redirect URI',
      input: { mapping: { kind: 'san_dns', value: 'r7.example.com' }, grantTypes: ['authorization_code'], redirectUris: ['/callback'] },
      code: 'ERR_REDIRECT_URI_INVALID',
      member: 'redirectUris',
      cli: /^--redirect-uri: "\/callback" is not an absolute URL/,
      api: /^redirect_uris: "\/callback" is not an absolute URL/,
    },
    {
      title: 'a redirect URI with a fragment',
      input: { mapping: { kind: 'san_dns', value: 'r8.example.com' }, grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb#x'] },
      code: 'ERR_REDIRECT_URI_INVALID',
      member: 'redirectUris',
      cli: /^--redirect-uri: .* has a fragment/,
      api: /^redirect_uris: .* has a fragment/,
    },
    {
      title: 'a redirect URI given twice',
      input: { mapping: { kind: 'san_dns', value: 'r9.example.com' }, grantTypes: ['authorization_code'], redirectUris: [CALLBACK, CALLBACK] },
      code: 'ERR_REDIRECT_URI_INVALID',
      member: 'redirectUris',
      cli: /^--redirect-uri: The redirect URI "https:\/\/app\.example\.com\/callback" is given twice/,
      api: /given twice/,
    },
    {
      title: 'a plain http redirect URI on a host that is not loopback',
      input: { mapping: { kind: 'san_dns', value: 'r10.example.com' }, grantTypes: ['authorization_code'], redirectUris: ['http://app.example.com/cb'] },
      code: 'ERR_REDIRECT_URI_INVALID',
      member: 'redirectUris',
      cli: /plain http on a host that is not loopback[\s\S]*RFC 8252/,
      api: /^redirect_uris: .*plain http/,
    },
    {
      title: 'a custom scheme redirect URI',
      input: { publicClient: true, grantTypes: ['authorization_code'], redirectUris: ['com.example.app:/callback'] },
      code: 'ERR_REDIRECT_URI_INVALID',
      member: 'redirectUris',
      cli: /uses the scheme com\.example\.app/,
      api: /^redirect_uris: .*uses the scheme/,
    },
    {
      title: 'a redirect URI with credentials',
      input: { mapping: { kind: 'san_dns', value: 'r11.example.com' }, grantTypes: ['authorization_code'], redirectUris: ['https://u:p@app.example.com/cb'] },
      code: 'ERR_REDIRECT_URI_INVALID',
      member: 'redirectUris',
      cli: /carries credentials/,
      api: /^redirect_uris: .*carries credentials/,
    },
  ];

  it.each(refusals)('refuses $title: $code naming $member, worded by both surfaces, nothing written', async ({ input, code, member, cli, api }) => {
    const before = await counts();
    const err = await refusal(admin.addClient({ clientId: 'refused', scopes: ['read'], ...input }, 'test'));
    expect(err.code).toBe(code);
    expect(err.status).toBe(400);
    expect(err.details?.member).toBe(member);
    expect(err.message).not.toMatch(SURFACE_WORDS);
    expect(err.hint ?? '').not.toMatch(SURFACE_WORDS);
    expect(explainForCli(err)).toMatch(cli);
    expect(adminApiWording(err).message).toMatch(api);
    expect(await counts()).toEqual(before);
  });
});

describe('changing the grants of a client', () => {
  it('turns a client_credentials client into a code-flow client and back, audited; the other metadata stays', async () => {
    await admin.addClient({ clientId: 'switch', mapping: { kind: 'san_dns', value: 'switch.example.com' }, scopes: ['read'] }, 'test');
    const code = await admin.updateClient('switch', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [CALLBACK], requirePar: false }, 'test');
    expect(code).toMatchObject({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [CALLBACK], requirePar: false, scopes: ['read'] });
    const [entry] = await admin.listAudit({ target: 'client:switch', action: 'client.update' });
    expect(entry).toMatchObject({
      before: expect.objectContaining({ grantTypes: ['client_credentials'] }),
      after: expect.objectContaining({ grantTypes: ['authorization_code', 'refresh_token'] }),
    });
    const par = await admin.updateClient('switch', { requirePar: true }, 'test');
    expect(par).toMatchObject({ requirePar: true, redirectUris: [CALLBACK], grantTypes: ['authorization_code', 'refresh_token'] });
    const back = await admin.updateClient('switch', { grantTypes: ['client_credentials'], redirectUris: [] }, 'test');
    expect(back).toMatchObject({ grantTypes: ['client_credentials'], redirectUris: [] });
  });

  it('refuses a change that leaves an inconsistent client, and changes nothing', async () => {
    const before = await admin.showClient('web-app');
    const auditBefore = (await counts()).audit;
    expect(await refusal(admin.updateClient('web-app', { redirectUris: [] }, 'test'))).toMatchObject({ code: 'ERR_GRANT_TYPES_INCONSISTENT', details: { member: 'redirectUris' } });
    expect(await refusal(admin.updateClient('web-app', { grantTypes: ['refresh_token'] }, 'test'))).toMatchObject({
      code: 'ERR_GRANT_TYPES_INCONSISTENT',
      details: { member: 'grantTypes' },
    });
    expect(await refusal(admin.updateClient('web-app', { redirectUris: ['ftp://x.example.com/'] }, 'test'))).toMatchObject({ code: 'ERR_REDIRECT_URI_INVALID' });
    expect(await refusal(admin.updateClient('mobile', { grantTypes: ['authorization_code', 'client_credentials'] }, 'test'))).toMatchObject({ code: 'ERR_PUBLIC_CLIENT' });
    expect(await refusal(admin.updateClient('mobile', { boundTokens: false }, 'test'))).toMatchObject({ code: 'ERR_PUBLIC_CLIENT', details: { member: 'boundTokens' } });
    expect(await refusal(admin.updateClient('mobile', { jwks: '{"keys":[]}' }, 'test'))).toMatchObject({ code: 'ERR_PUBLIC_CLIENT', details: { member: 'jwks' } });
    expect(await admin.showClient('web-app')).toEqual(before);
    expect((await counts()).audit).toBe(auditBefore);
  });

  it('keeps an administrator: the last admin client cannot lose client_credentials, which admin tokens come from', async () => {
    await admin.addResourceServer({ identifier: 'https://as.example.com/admin', scopes: ['certbound:admin'] }, 'test');
    await admin.addClient({ clientId: 'ops', mapping: { kind: 'san_dns', value: 'ops.example.com' }, scopes: ['certbound:admin'] }, 'test');
    const err = await refusal(admin.updateClient('ops', { grantTypes: ['authorization_code'], redirectUris: [CALLBACK] }, 'test', { keepAnAdministrator: true }));
    expect(err).toMatchObject({ code: 'ERR_ADMIN_LAST', details: { member: 'grantTypes' } });
    expect(err.message).toContain('withdrawing client_credentials');
    expect((await admin.showClient('ops')).grantTypes).toEqual(['client_credentials']);
  });
});
