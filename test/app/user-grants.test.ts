/**
 * End users' consents and refresh tokens through the use cases, on a real database. Tokens are written
 * by the same oidc-provider adapter the server uses (RefreshToken, AccessToken and AuthorizationCode
 * rows with their grant, client, user and certificate thumbprint), then listed by handle and revoked.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminApiWording } from '../../src/admin-api/error-wording.js';
import { refreshTokenJson } from '../../src/admin-api/serializers.js';
import { createAdminService } from '../../src/app/service.js';
import { explainForCli } from '../../src/cli/error-wording.js';
import { consents, createOidcAdapter } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { refusal } from '../helpers/errors.js';

let database: TestDatabase;
let admin: ReturnType<typeof createAdminService>;
let Adapter: ReturnType<typeof createOidcAdapter>;
const CALLBACK = 'https://app.example.com/callback';
const THUMB_A = 'A'.repeat(43);

const handleOf = (id: string) => createHash('sha256').update(id).digest('base64url').slice(0, 16);

async function grantExists(grantId: string): Promise<boolean> {
  return Number((await database.db('oidc_payloads').where({ model: 'Grant', id: grantId }).count({ n: '*' }))[0]!.n) === 1;
}

async function payloadCount(): Promise<number> {
  return Number((await database.db('oidc_payloads').count({ n: '*' }))[0]!.n);
}

async function auditCount(): Promise<number> {
  return Number((await database.db('audit_log').count({ n: '*' }))[0]!.n);
}

/** A grant's tokens as the server stores them: a code, an access token and a refresh token. */
async function issue(grantId: string, clientId: string, accountId: string, options: { x5t?: string; iat?: number } = {}): Promise<string> {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const common = { grantId, clientId, accountId, iat, ...(options.x5t ? { 'x5t#S256': options.x5t } : {}) };
  await new Adapter('AuthorizationCode').upsert(`code-${grantId}`, { ...common, kind: 'AuthorizationCode' }, 60);
  await new Adapter('AccessToken').upsert(`at-${grantId}`, { ...common, kind: 'AccessToken', scope: 'openid read' }, 600);
  const id = `rt-${grantId}`;
  await new Adapter('RefreshToken').upsert(id, { ...common, kind: 'RefreshToken', scope: 'openid read' }, 86_400);
  // The grant itself, keyed by its id (oidc-provider's Grant model).
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', clientId, accountId }, 86_400);
  return id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  Adapter = createOidcAdapter(database.db, async () => undefined);
  await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'test');
  for (const clientId of ['web', 'mobile']) {
    await admin.addClient({ clientId, publicClient: true, scopes: ['read'], grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [CALLBACK] }, 'test');
  }
});
afterAll(() => database?.drop());

beforeEach(async () => {
  await database.db('oidc_payloads').delete();
  await database.db('user_consents').delete();
  const now = new Date();
  for (const [accountId, clientId] of [
    ['alice', 'web'],
    ['alice', 'mobile'],
    ['bob', 'web'],
  ]) {
    await consents.save(database.db, {
      accountId: accountId!,
      clientId: clientId!,
      scopes: ['openid', 'read'],
      resources: ['https://api.example.com'],
      grantedAt: now,
      updatedAt: now,
    });
  }
});

describe('consents', () => {
  it('list: all, by client, by user, by both', async () => {
    const pairs = (list: { clientId: string; accountId: string }[]) => list.map((c) => `${c.clientId}/${c.accountId}`);
    expect(pairs(await admin.listConsents())).toEqual(['mobile/alice', 'web/alice', 'web/bob']);
    expect(pairs(await admin.listConsents({ clientId: 'web' }))).toEqual(['web/alice', 'web/bob']);
    expect(pairs(await admin.listConsents({ accountId: 'alice' }))).toEqual(['mobile/alice', 'web/alice']);
    expect(pairs(await admin.listConsents({ clientId: 'web', accountId: 'bob' }))).toEqual(['web/bob']);
    expect(await admin.listConsents({ clientId: 'nobody' })).toEqual([]);
  });

  it("revoke: the consent and that user's tokens at that client go, in one audited change; other users and clients keep theirs", async () => {
    await issue('g1', 'web', 'alice', { x5t: THUMB_A });
    await issue('g2', 'web', 'alice');
    const bobs = await issue('g3', 'web', 'bob');
    const mobile = await issue('g4', 'mobile', 'alice');
    const { consent, revokedTokens } = await admin.revokeConsent('web', 'alice', 'cli:ops');
    expect(consent).toMatchObject({ clientId: 'web', accountId: 'alice', scopes: ['openid', 'read'] });
    expect(revokedTokens).toBe(6);
    expect([await grantExists('g1'), await grantExists('g2'), await grantExists('g3'), await grantExists('g4')]).toEqual([false, false, true, true]);
    expect(await consents.find(database.db, 'alice', 'web')).toBeUndefined();
    expect((await admin.listRefreshTokens()).map((t) => t.handle).sort()).toEqual([handleOf(bobs), handleOf(mobile)].sort());
    const [entry] = await admin.listAudit({ target: 'consent:web:alice' });
    expect(entry).toMatchObject({
      actor: 'cli:ops',
      action: 'consent.revoke',
      before: expect.objectContaining({ accountId: 'alice', clientId: 'web' }),
      after: { revokedTokens: 6 },
    });
  });

  it('revoke: an unknown consent is refused (404) and changes nothing', async () => {
    await issue('g5', 'web', 'carol');
    const before = { payloads: await payloadCount(), audit: await auditCount(), consents: (await admin.listConsents()).length };
    const err = await refusal(admin.revokeConsent('web', 'carol', 'test'));
    expect(err).toMatchObject({ code: 'ERR_CONSENT_UNKNOWN', status: 404, details: { clientId: 'web', accountId: 'carol' } });
    expect(explainForCli(err)).toContain('certbound consent list --client web');
    expect(adminApiWording(err).hint).toContain('GET /admin/consents?client_id=web');
    expect({ payloads: await payloadCount(), audit: await auditCount(), consents: (await admin.listConsents()).length }).toEqual(before);
  });

  it('a removed client takes its consents with it', async () => {
    await admin.addClient({ clientId: 'short-lived', publicClient: true, grantTypes: ['authorization_code'], redirectUris: [CALLBACK] }, 'test');
    const now = new Date();
    await consents.save(database.db, { accountId: 'alice', clientId: 'short-lived', scopes: ['openid'], resources: [], grantedAt: now, updatedAt: now });
    await admin.removeClient('short-lived', 'test');
    expect(await admin.listConsents({ clientId: 'short-lived' })).toEqual([]);
  });
});

describe('refresh tokens', () => {
  it('PUB-3: list shows a handle, never the token, with client, user, bound thumbprint, scopes and dates; oldest first; filtered', async () => {
    const older = await issue('g10', 'web', 'alice', { x5t: THUMB_A, iat: Math.floor(Date.now() / 1000) - 100 });
    const newer = await issue('g11', 'mobile', 'bob');
    const list = await admin.listRefreshTokens();
    expect(list.map((t) => t.handle)).toEqual([handleOf(older), handleOf(newer)]);
    expect(list[0]).toMatchObject({ clientId: 'web', accountId: 'alice', x5tS256: THUMB_A, scopes: ['openid', 'read'], consumed: false });
    expect(list[0]!.issuedAt).toBeInstanceOf(Date);
    expect(list[0]!.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(list[1]).toMatchObject({ x5tS256: null });
    const json = JSON.stringify(list.map(refreshTokenJson));
    expect(json).not.toContain(older);
    expect(json).not.toContain(newer);
    expect(refreshTokenJson(list[0]!)).toMatchObject({ handle: handleOf(older), client_id: 'web', user: 'alice', 'x5t#S256': THUMB_A, scope: 'openid read' });
    expect((await admin.listRefreshTokens({ clientId: 'mobile' })).map((t) => t.handle)).toEqual([handleOf(newer)]);
    expect((await admin.listRefreshTokens({ accountId: 'alice' })).map((t) => t.handle)).toEqual([handleOf(older)]);
    expect(await admin.listRefreshTokens({ clientId: 'web', accountId: 'bob' })).toEqual([]);
  });

  it('revoke by handle: the token and its grant go (the access token and code too), audited by handle; other grants stay', async () => {
    const first = await issue('g20', 'web', 'alice', { x5t: THUMB_A });
    const other = await issue('g21', 'web', 'alice');
    const { token, revokedTokens } = await admin.revokeRefreshToken(handleOf(first), 'cli:ops');
    expect(token).toMatchObject({ handle: handleOf(first), clientId: 'web', accountId: 'alice' });
    expect(revokedTokens).toBe(3);
    expect([await grantExists('g20'), await grantExists('g21')]).toEqual([false, true]);
    expect(Number((await database.db('oidc_payloads').where({ grant_id: 'g20' }).count({ n: '*' }))[0]!.n)).toBe(0);
    expect((await admin.listRefreshTokens()).map((t) => t.handle)).toEqual([handleOf(other)]);
    const [entry] = await admin.listAudit({ target: `refresh_token:${handleOf(first)}` });
    expect(entry).toMatchObject({ actor: 'cli:ops', action: 'refresh_token.revoke', after: { revokedTokens: 3 } });
    expect(JSON.stringify(entry)).not.toContain(first);
  });

  it.each([
    ['an unknown handle', 'AAAAAAAAAAAAAAAA'],
    ['not a handle at all', 'rt-g30'],
    ['a handle with SQL in it', "'; delete from x"],
  ])('revoke: %s is refused (404) and changes nothing', async (_title, handle) => {
    await issue('g30', 'web', 'alice');
    const before = { payloads: await payloadCount(), audit: await auditCount() };
    const err = await refusal(admin.revokeRefreshToken(handle, 'test'));
    expect(err).toMatchObject({ code: 'ERR_REFRESH_TOKEN_UNKNOWN', status: 404 });
    expect(explainForCli(err)).toContain('certbound refresh-token list');
    expect(adminApiWording(err).hint).toContain('GET /admin/refresh-tokens');
    expect({ payloads: await payloadCount(), audit: await auditCount() }).toEqual(before);
  });
});
