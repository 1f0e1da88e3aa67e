/** `certbound audit list`: the audit rows of CLI and admin API changes, newest first, filterable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { runCliCaptured } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
let env: Record<string, string>;

const cli = (...argv: string[]) => runCliCaptured(env, ...argv);

beforeAll(async () => {
  database = await createTestDatabase();
  env = { CERTBOUND_DATABASE_URL: database.url };
  const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'admin:ops:abc');
  await admin.addResourceServer({ identifier: 'https://other.example.com', scopes: ['read'] }, 'cli:alice');
});
afterAll(() => database?.drop());

describe('certbound audit list', () => {
  it('lists entries newest first, as a table or JSON, filtered by target and limited', async () => {
    const table = await cli('audit', 'list');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^AT\s+ACTOR\s+ACTION\s+TARGET$/);
    expect(table.out.split('\n')[1]).toContain('cli:alice');
    const json = JSON.parse((await cli('audit', 'list', '--json', '--target', 'resource:https://api.example.com')).out);
    expect(json).toEqual([expect.objectContaining({ actor: 'admin:ops:abc', action: 'resource.add', target: 'resource:https://api.example.com', before: null })]);
    expect(JSON.parse((await cli('audit', 'list', '--json', '--limit', '1')).out)).toHaveLength(1);
  });

  it('a bad --limit exits 2 and says what is expected', async () => {
    const r = await cli('audit', 'list', '--limit', '0');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--limit 0 is not a whole number from 1 to 1000');
  });
});
