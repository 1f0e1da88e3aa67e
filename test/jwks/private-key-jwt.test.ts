/**
 * Registration of private_key_jwt clients (BT-2): the public keys are checked before anything is
 * written, every refusal says what is wrong, and a refused registration changes no row.
 */
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePrivateKeyJwtJwks } from '../../src/jwks/private-key-jwt.js';
import { createAdminService } from '../../src/app/service.js';
import { CertboundError } from '../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { selfSigned } from '../helpers/pki.js';

async function publicJwk(alg: 'ES256' | 'ES384' | 'RS256' | 'EdDSA'): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return exportJWK(publicKey);
}

async function refusal(keys: unknown[]): Promise<string> {
  try {
    await validatePrivateKeyJwtJwks(JSON.stringify({ keys }));
  } catch (err) {
    expect(err).toBeInstanceOf(CertboundError);
    return `${(err as CertboundError).code}: ${(err as Error).message}`;
  }
  throw new Error('expected a refusal');
}

describe('private_key_jwt keys (BT-2)', () => {
  it('EC P-256 and P-384, RSA 2048 and Ed25519 public keys are accepted; a key without kid gets its RFC 7638 thumbprint', async () => {
    const keys = [await publicJwk('ES256'), await publicJwk('ES384'), await publicJwk('RS256'), await publicJwk('EdDSA')];
    const jwks = await validatePrivateKeyJwtJwks(JSON.stringify({ keys }));
    expect(jwks.keys.map((k) => k.kid)).toEqual(await Promise.all(keys.map((k) => calculateJwkThumbprint(k))));
  });

  it('a kid and alg the client gave are kept', async () => {
    const jwk = { ...(await publicJwk('ES256')), kid: 'agent-2026', alg: 'ES256', use: 'sig' };
    expect((await validatePrivateKeyJwtJwks(JSON.stringify({ keys: [jwk] }))).keys[0]).toMatchObject({ kid: 'agent-2026', alg: 'ES256', use: 'sig' });
  });

  it('refuses private key material, symmetric keys, short RSA keys, x5c, other uses, mismatched alg and duplicate kids, each with its reason', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const es256 = await publicJwk('ES256');
    expect(await refusal([await exportJWK(privateKey)])).toMatch(/ERR_JWKS_INVALID: keys\[0\] contains private key material \(d\)/);
    expect(await refusal([{ kty: 'oct', k: 'c2VjcmV0' }])).toMatch(/symmetric key/);
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(await refusal([rsa1024])).toMatch(/1024 bits; at least 2048/);
    const cert = await selfSigned({ subject: [{ CN: ['x'] }] });
    expect(await refusal([{ ...es256, x5c: [cert.der.toString('base64')] }])).toMatch(/has x5c/);
    expect(await refusal([{ ...es256, use: 'enc' }])).toMatch(/use "sig"/);
    expect(await refusal([{ ...es256, alg: 'RS256' }])).toMatch(/"RS256" does not fit this EC key; use one of ES256/);
    expect(await refusal([{ ...es256, crv: 'P-521', x: es256.x, y: es256.y }])).toMatch(/curve P-521 is not accepted/);
    expect(
      await refusal([
        { ...es256, kid: 'k' },
        { ...(await publicJwk('ES256')), kid: 'k' },
      ]),
    ).toMatch(/kid "k" is used by another key/);
    expect(await refusal([{ kty: 'EC', crv: 'P-256', x: es256.x }])).toMatch(/public key members y are missing/);
    expect(await refusal([])).toMatch(/1 to 10 keys/);
  });
});

describe('private_key_jwt clients in the store', () => {
  let database: TestDatabase;
  let admin: ReturnType<typeof createAdminService>;
  beforeAll(async () => {
    database = await createTestDatabase();
    admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
    await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'test');
  });
  afterAll(() => database?.drop());

  it('a client registered with its keys is stored as private_key_jwt with those keys and bound tokens on', async () => {
    const jwk = { ...(await publicJwk('ES256')), kid: 'a1' };
    const c = await admin.addClient({ clientId: 'agent', privateKeyJwtJwks: JSON.stringify({ keys: [jwk] }), scopes: ['read'] }, 'test');
    expect(c).toMatchObject({ authMethod: 'private_key_jwt', boundTokens: true, mappings: [] });
    expect((await admin.showClient('agent')).jwks).toEqual({ keys: [jwk] });
  });

  it('a refused registration (bad key, or keys plus a mapping) writes no client and no audit row', async () => {
    const count = async (t: string) => Number((await database.db(t).count({ n: '*' }))[0]!.n);
    const before = [await count('clients'), await count('audit_log')];
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    await expect(admin.addClient({ clientId: 'leaky', privateKeyJwtJwks: JSON.stringify({ keys: [await exportJWK(privateKey)] }) }, 'test')).rejects.toMatchObject({
      code: 'ERR_JWKS_INVALID',
    });
    await expect(
      admin.addClient(
        { clientId: 'both', privateKeyJwtJwks: JSON.stringify({ keys: [await publicJwk('ES256')] }), mapping: { kind: 'san_dns', value: 'both.example.com' } },
        'test',
      ),
    ).rejects.toMatchObject({ code: 'ERR_CLIENT_SUBJECT_REQUIRED' });
    expect([await count('clients'), await count('audit_log')]).toEqual(before);
  });

  it('certificate mappings cannot be added to a private_key_jwt client', async () => {
    await expect(admin.addMapping('agent', { kind: 'san_dns', value: 'agent.example.com' }, 'test')).rejects.toMatchObject({ code: 'ERR_CLIENT_NOT_PKI' });
  });
});
