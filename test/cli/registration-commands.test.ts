/** `certbound registration-token create|list|revoke` and `certbound client approve|reject`. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/app/registration-tokens.js';
import { createRegistrationUseCases } from '../../src/app/registrations.js';
import { createAdminService } from '../../src/app/service.js';
import { parseDuration } from '../../src/cli/registration-commands.js';
import { runCliCaptured } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
let env: Record<string, string>;

const cli = (...argv: string[]) => runCliCaptured(env, ...argv);

beforeAll(async () => {
  database = await createTestDatabase();
  env = { CERTBOUND_DATABASE_URL: database.url };
});
afterAll(() => database?.drop());

describe('certbound registration-token', () => {
  it('create --json prints the token once with its limits; only its hash is stored; list shows no token; revoke ends it', async () => {
    const created = await cli(
      'registration-token',
      'create',
      '--expires-in',
      '2h',
      '--max-uses',
      '3',
      '--scope',
      'read write',
      '--resource',
      'https://api.example.com',
      '--environment',
      'prod',
      '--approval',
      'manual',
      '--json',
    );
    expect(created.code, created.err).toBe(0);
    const json = JSON.parse(created.out);
    expect(json).toMatchObject({ max_uses: 3, uses: 0, scope: 'read write', resources: ['https://api.example.com'], environments: ['prod'], approval: 'manual', revoked_at: null });
    expect(String(json.token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(json.expires_at) - Date.now()).toBeGreaterThan(7_100_000);
    const rows = await database.db('initial_access_tokens').select('*');
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(hashToken(json.token));
    expect(JSON.stringify(rows)).not.toContain(json.token);
    const listed = await cli('registration-token', 'list', '--json');
    expect(listed.out).not.toContain(json.token);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ id: json.id })]);
    expect((await cli('registration-token', 'revoke', json.id)).code).toBe(0);
    expect((await cli('registration-token', 'list')).out).toContain(`${json.id}  revoked`);
  });

  it('a bad duration, number of uses or approval mode exits 2 and changes nothing', async () => {
    const before = await database.db('initial_access_tokens').count({ n: '*' });
    expect((await cli('registration-token', 'create', '--expires-in', 'soon')).code).toBe(2);
    expect((await cli('registration-token', 'create', '--max-uses', '0')).code).toBe(2);
    expect((await cli('registration-token', 'create', '--approval', 'maybe')).code).not.toBe(0);
    expect((await cli('registration-token', 'revoke', 'nope')).code).toBe(2);
    expect(await database.db('initial_access_tokens').count({ n: '*' })).toEqual(before);
  });

  it('durations: seconds, minutes, hours, days', () => {
    expect(parseDuration('90', '--expires-in')).toBe(90);
    expect(parseDuration('30m', '--expires-in')).toBe(1800);
    expect(parseDuration('1h', '--expires-in')).toBe(3600);
    expect(parseDuration('7d', '--expires-in')).toBe(604_800);
  });
});

describe('certbound software-issuer', () => {
  it('add --jwks trusts an issuer, list shows it, a second add of the name is refused, remove ends it', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const file = path.join(tmpdir(), `issuer-${process.pid}-${Date.now()}.jwks.json`);
    writeFileSync(file, JSON.stringify({ keys: [await exportJWK(publicKey)] }));
    const added = await cli('software-issuer', 'add', '--name', 'https://directory.example.com', '--jwks', file, '--scope', 'read', '--approval', 'manual');
    expect(added.code, added.err).toBe(0);
    expect(added.out).toContain('1 key(s), approval manual');
    const listed = JSON.parse((await cli('software-issuer', 'list', '--json')).out);
    expect(listed).toEqual([expect.objectContaining({ name: 'https://directory.example.com', keys: 1, scope: 'read', approval: 'manual' })]);
    expect((await cli('software-issuer', 'add', '--name', 'https://directory.example.com', '--jwks', file)).code).toBe(2);
    expect((await cli('software-issuer', 'add', '--name', 'no-keys')).code).toBe(2);
    expect((await cli('software-issuer', 'remove', 'https://directory.example.com')).code).toBe(0);
    expect((await cli('software-issuer', 'list')).out).toBe('no software statement issuers');
    expect((await cli('software-issuer', 'remove', 'https://directory.example.com')).code).toBe(2);
  });
});

describe('certbound client approve|reject', () => {
  it('refuses a client that does not await approval, exit 2', async () => {
    const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
    await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'test');
    await admin.addClient({ clientId: 'plain', mapping: { kind: 'san_dns', value: 'plain.example.com' }, scopes: ['read'] }, 'test');
    const r = await cli('client', 'approve', 'plain');
    expect(r.code).toBe(2);
    expect(r.err).toContain('does not await approval');
    expect((await cli('client', 'reject', 'ghost')).code).toBe(2);
  });

  it("client show and client list say where a registration stands: pending, approved, or nothing for an administrator's client (text and --json)", async () => {
    const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
    const dcr = createRegistrationUseCases({ db: database.db });
    // The certificate proof belongs to the endpoint's tests; here it always holds.
    const presented = { x5t: 'x5t-of-the-registrant', anchor: undefined, authenticates: () => undefined };
    const registered = async (approval: 'auto' | 'manual', name: string) => {
      const { token } = await admin.createRegistrationToken({ scopes: ['read'], resources: ['https://api.example.com'], approval }, 'test');
      return (await dcr.register({ initialAccessToken: token, metadata: { tls_client_auth_san_dns: `${name}.example.com` }, presented })).client.clientId;
    };
    const pending = await registered('manual', 'waiting');
    const auto = await registered('auto', 'auto');

    const shown = await cli('client', 'show', pending);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain(`registration: pending (certbound client approve ${pending}, or reject)`);
    expect(JSON.parse((await cli('client', 'show', pending, '--json')).out).registration).toBe('pending');
    expect((await cli('client', 'show', auto)).out).toContain('registration: approved');
    expect((await cli('client', 'show', 'plain')).out).not.toContain('registration');
    expect(JSON.parse((await cli('client', 'show', 'plain', '--json')).out).registration).toBeNull();

    const listed = await cli('client', 'list');
    expect(listed.out.split('\n')[0]).toMatch(/^CLIENT +METHOD +SCOPES +REGISTRATION +SUBJECT$/);
    expect(listed.out).toMatch(new RegExp(`\\n${pending} +tls_client_auth +read +pending +san_dns=waiting\\.example\\.com`));
    expect(listed.out).toMatch(new RegExp(`\\n${auto} +tls_client_auth +read +approved +san_dns=auto\\.example\\.com`));
    expect(listed.out).toMatch(/\nplain +tls_client_auth +read +- +san_dns=plain\.example\.com/);
    const states = Object.fromEntries(
      (JSON.parse((await cli('client', 'list', '--json')).out) as { client_id: string; registration: unknown }[]).map((c) => [c.client_id, c.registration]),
    );
    expect(states).toEqual({ [pending]: 'pending', [auto]: 'approved', plain: null });

    expect((await cli('client', 'approve', pending)).code).toBe(0);
    expect((await cli('client', 'show', pending)).out).toContain('registration: approved');
  });
});
