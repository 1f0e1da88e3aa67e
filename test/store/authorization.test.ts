import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consents, createOidcAdapter, refreshTokens, upstreamProviders } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  const now = Date.now();
  for (const id of ['web-app', 'other-app'])
    await database.db('clients').insert({ client_id: id, token_endpoint_auth_method: 'none', scope: '', metadata: '{}', created_at: now, updated_at: now });
});
afterAll(() => database?.drop());

describe('upstream provider record', () => {
  it('is absent until put, replaced by a second put (created_at kept), and removed', async () => {
    const db = database.db;
    expect(await upstreamProviders.find(db, undefined)).toBeUndefined();
    const base = {
      name: 'default',
      issuer: 'https://login.example.com',
      clientId: 'certbound',
      authMethod: 'client_secret_basic' as const,
      clientSecret: 's3cret',
      privateJwk: null,
      scopes: ['openid', 'email'],
      subjectClaim: 'sub',
      createdAt: new Date(1_000_000),
      updatedAt: new Date(1_000_000),
    };
    await upstreamProviders.put(db, base, undefined);
    expect(await upstreamProviders.find(db, undefined)).toEqual(base);
    await upstreamProviders.put(
      db,
      {
        ...base,
        authMethod: 'private_key_jwt',
        clientSecret: null,
        privateJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
        createdAt: new Date(2_000_000),
        updatedAt: new Date(2_000_000),
      },
      undefined,
    );
    const replaced = await upstreamProviders.find(db, undefined);
    expect(replaced?.authMethod).toBe('private_key_jwt');
    expect(replaced?.clientSecret).toBeNull();
    expect(replaced?.privateJwk).toMatchObject({ kty: 'EC' });
    expect(replaced?.createdAt).toEqual(new Date(1_000_000));
    expect(replaced?.updatedAt).toEqual(new Date(2_000_000));
    expect(await upstreamProviders.remove(db)).toBe(1);
    expect(await upstreamProviders.find(db, undefined)).toBeUndefined();
  });
});

describe('user consents', () => {
  it('are saved per user and client, replaced on a second save, listed by user or client, and removed', async () => {
    const db = database.db;
    const at = new Date(5_000_000);
    await consents.save(db, { accountId: 'alice', clientId: 'web-app', scopes: ['read'], resources: ['https://api.example.com'], grantedAt: at, updatedAt: at });
    await consents.save(db, { accountId: 'bob', clientId: 'web-app', scopes: ['read'], resources: [], grantedAt: at, updatedAt: at });
    await consents.save(db, { accountId: 'alice', clientId: 'other-app', scopes: [], resources: [], grantedAt: at, updatedAt: at });
    await consents.save(db, {
      accountId: 'alice',
      clientId: 'web-app',
      scopes: ['read', 'write'],
      resources: ['https://api.example.com'],
      grantedAt: new Date(),
      updatedAt: new Date(6_000_000),
    });
    const found = await consents.find(db, 'alice', 'web-app');
    expect(found).toMatchObject({ scopes: ['read', 'write'], resources: ['https://api.example.com'], grantedAt: at, updatedAt: new Date(6_000_000) });
    expect((await consents.list(db, { accountId: 'alice' })).map((c) => c.clientId)).toEqual(['other-app', 'web-app']);
    expect((await consents.list(db, { clientId: 'web-app' })).map((c) => c.accountId)).toEqual(['alice', 'bob']);
    expect(await consents.remove(db, 'alice', 'web-app')).toBe(1);
    expect(await consents.find(db, 'alice', 'web-app')).toBeUndefined();
    await db('clients').where({ client_id: 'other-app' }).delete();
    expect(await consents.list(db, { accountId: 'alice' })).toEqual([]);
  });
});

describe('refresh tokens (PUB-3: the bound thumbprint stored with the refresh token)', () => {
  it('the adapter fills the listing columns; list filters by client and user; revoke removes the grant', async () => {
    const db = database.db;
    const Adapter = createOidcAdapter(db, async () => undefined);
    const rt = new Adapter('RefreshToken');
    const at = new Adapter('AccessToken');
    const iat = Math.floor(Date.now() / 1000);
    await rt.upsert('rt-1', { grantId: 'g1', clientId: 'web-app', accountId: 'alice', 'x5t#S256': 'thumb-1', scope: 'read', iat }, 3600);
    await at.upsert('at-1', { grantId: 'g1', clientId: 'web-app', accountId: 'alice', scope: 'read', iat }, 3600);
    await rt.upsert('rt-2', { grantId: 'g2', clientId: 'web-app', accountId: 'bob', scope: 'read', iat: iat + 1 }, 3600);
    await rt.upsert('rt-expired', { grantId: 'g3', clientId: 'web-app', accountId: 'alice', iat }, 1);
    await db('oidc_payloads')
      .where({ id: 'rt-expired' })
      .update({ expires_at: Date.now() - 1000 });

    const listed = await refreshTokens.list(db, { clientId: 'web-app' });
    expect(listed.map((t) => t.id)).toEqual(['rt-1', 'rt-2']);
    expect(listed[0]).toMatchObject({ grantId: 'g1', clientId: 'web-app', accountId: 'alice', x5tS256: 'thumb-1', scopes: ['read'], consumed: false });
    expect((await refreshTokens.list(db, { accountId: 'alice' })).map((t) => t.id)).toEqual(['rt-1']);
    expect(await db('oidc_payloads').where({ id: 'rt-1' }).first()).toMatchObject({ x5t_s256: 'thumb-1', client_id: 'web-app', account_id: 'alice' });

    expect(await refreshTokens.revoke(db, 'rt-1')).toBe(2);
    expect(await at.find('at-1')).toBeUndefined();
    expect(await refreshTokens.revoke(db, 'rt-1')).toBe(0);
    expect(await refreshTokens.revokeFor(db, 'bob', 'web-app')).toBe(1);
    expect(await refreshTokens.list(db, { clientId: 'web-app' })).toEqual([]);
  });
});
