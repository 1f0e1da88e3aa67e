/**
 * `certbound upstream set --client-secret-file -` reads the upstream client secret from standard input,
 * in a process of its own (the CLI from the sources), so that the secret never appears in the process's
 * arguments; nothing prints it back.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamProviders } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const root = path.resolve(import.meta.dirname, '../..');
const SECRET = 'from-stdin-5d1c9e';
let database: TestDatabase;

/** Runs `certbound …args` from the sources with `input` on its standard input. */
function certbound(input: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: root, env: { ...process.env, CERTBOUND_DATABASE_URL: database.url } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

describe('certbound upstream set --client-secret-file -', () => {
  it('takes the secret from standard input (one final line break dropped), and prints it nowhere', async () => {
    const r = await certbound(`${SECRET}\n`, 'upstream', 'set', '--issuer', 'https://login.example.com', '--client-id', 'certbound', '--client-secret-file', '-');
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect((await upstreamProviders.find(database.db))?.clientSecret).toBe(SECRET);
    const shown = await certbound('', 'upstream', 'show', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ client_secret_set: true });
    for (const out of [r.stdout, r.stderr, shown.stdout, shown.stderr]) expect(out).not.toContain(SECRET);
  }, 60_000);

  it('an empty standard input is refused (exit 2), the provider unchanged', async () => {
    const r = await certbound('', 'upstream', 'set', '--issuer', 'https://other.example.com', '--client-id', 'certbound', '--client-secret-file', '-');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--client-secret-file: client_secret_basic needs the client secret');
    expect((await upstreamProviders.find(database.db))?.issuer).toBe('https://login.example.com');
  }, 60_000);
});
