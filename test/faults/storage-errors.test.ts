/**
 * H15-10: a database file that cannot be used gets one certbound error from the CLI and from `serve`,
 * naming the file and what to do, and no driver stack trace. These are SQLite files, made broken on
 * purpose; they do not use the shared test database, so both CERTBOUND_TEST_DB runs check the same.
 *
 * A read-only directory and a full disk need a mount: a read-only bind mount and a tiny tmpfs (chmod
 * does not stop root, which these tests run as). Where `mount` is not allowed the two cases are skipped
 * with a loud message.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runServe } from '../../src/cli/serve.js';
import { runCliCaptured } from '../helpers/cli.js';

const root = mkdtempSync(path.join(tmpdir(), 'certbound-storage-'));
const mounts: string[] = [];

function canMount(): boolean {
  const probe = path.join(root, 'probe');
  mkdirSync(probe);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mountAllowed = canMount();
if (!mountAllowed) console.error('\n\n!!! test/faults/storage-errors.test.ts: `mount` is not allowed here; the read-only and full-disk cases are SKIPPED !!!\n\n');

afterAll(() => {
  // Lazily: a file the CLI process still holds open must not keep the mount (and the test) hanging.
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
});

function expectOneCertboundError(err: string, file: string, sentence: RegExp, hint: RegExp): void {
  const lines = err.split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(sentence);
  // At most the message and its hint: no stack, no driver dump.
  expect(lines.length, err).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^ {2}→ /);
  expect(err).toMatch(hint);
  expect(err).not.toMatch(/\n\s+at /);
}

async function serveError(file: string): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await runServe(
    { CERTBOUND_DATABASE_URL: file, CERTBOUND_DATA_DIR: path.join(root, 'serve-data'), CERTBOUND_PORT: '0', CERTBOUND_MTLS_PORT: '0', CERTBOUND_LOG_LEVEL: 'silent' },
    { out: () => {}, err: (t) => err.push(t) },
  );
  return { code, err: err.join('\n') };
}

describe('H15-10: an unusable SQLite database is one certbound error (CLI and serve)', () => {
  it('H15-10: a database path whose parent is a regular file → ERR_DATABASE_PATH naming the directory and the file', async () => {
    const parent = path.join(root, 'not-a-dir');
    writeFileSync(parent, 'a file');
    const file = path.join(parent, 'certbound.sqlite');
    const cli = await runCliCaptured({ CERTBOUND_DATABASE_URL: file }, 'client', 'list');
    expect(cli.code).toBe(1);
    expectOneCertboundError(cli.err, file, /part of that path is a file, not a directory/, /Move that file away/);
    const serve = await serveError(file);
    expect(serve.code).toBe(1);
    expectOneCertboundError(serve.err, file, /part of that path is a file, not a directory/, /Move that file away/);
  });

  it('H15-10: a file of garbage bytes → ERR_DATABASE_CORRUPT ("not a usable SQLite database"), the file left as it was', async () => {
    const file = path.join(root, 'garbage.sqlite');
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(file, garbage);
    const cli = await runCliCaptured({ CERTBOUND_DATABASE_URL: file }, 'client', 'list');
    expect(cli.code).toBe(1);
    expectOneCertboundError(cli.err, file, /is not a usable SQLite database/, /restore it from a backup/);
    const serve = await serveError(file);
    expect(serve.code).toBe(1);
    expectOneCertboundError(serve.err, file, /is not a usable SQLite database/, /restore it from a backup/);
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('H15-10: a directory that does not exist yet is created (not an error): the CLI works on a fresh database there', async () => {
    const file = path.join(root, 'new', 'deeper', 'certbound.sqlite');
    const cli = await runCliCaptured({ CERTBOUND_DATABASE_URL: file }, 'client', 'list');
    expect(cli.err).toBe('');
    expect(cli.code).toBe(0);
  });

  it.skipIf(!mountAllowed)('H15-10: a read-only directory (read-only bind mount) → ERR_DATABASE_READONLY naming the file and what to make writable', async () => {
    const rw = path.join(root, 'rw');
    const ro = path.join(root, 'ro');
    mkdirSync(rw);
    mkdirSync(ro);
    expect((await runCliCaptured({ CERTBOUND_DATABASE_URL: path.join(rw, 'certbound.sqlite') }, 'migrate')).code).toBe(0);
    execFileSync('mount', ['--bind', rw, ro]);
    mounts.push(ro);
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    const file = path.join(ro, 'certbound.sqlite');
    const cli = await runCliCaptured({ CERTBOUND_DATABASE_URL: file }, 'client', 'list');
    expect(cli.code).toBe(1);
    expectOneCertboundError(cli.err, file, /cannot be written: its directory or file is read-only/, /Make .* writable/);
    const serve = await serveError(file);
    expect(serve.code).toBe(1);
    expectOneCertboundError(serve.err, file, /cannot be written: its directory or file is read-only/, /Make .* writable/);
  });

  it.skipIf(!mountAllowed)('H15-10: a full disk (tiny tmpfs, filled) → ERR_DATABASE_FULL; the refused change is not written', async () => {
    const dir = path.join(root, 'full');
    mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    mounts.push(dir);
    const file = path.join(dir, 'certbound.sqlite');
    const env = { CERTBOUND_DATABASE_URL: file };
    expect((await runCliCaptured(env, 'migrate')).code).toBe(0);
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd ends with ENOSPC: the disk is full now
    }
    let full: { code: number; err: string } | undefined;
    for (let i = 0; i < 20 && !full; i++) {
      const r = await runCliCaptured(env, 'resource', 'add', '--id', `https://api-${i}.example.com`, '--scope', 'x'.repeat(4000));
      if (r.code !== 0) full = r;
    }
    expect(full, 'a write failed once the disk was full').toBeDefined();
    expect(full!.code).toBe(1);
    expectOneCertboundError(full!.err, file, /is full/, /Free space/);
    rmSync(path.join(dir, 'filler'));
    // Nothing partial: what was refused is not there; the database still works.
    const listed = await runCliCaptured(env, 'resource', 'list', '--json');
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.out) as { identifier: string }[]).map((r) => r.identifier);
    const failedAt = Number(/api-(\d+)/.exec(full!.err)?.[1] ?? ids.filter((id) => id.startsWith('https://api-')).length);
    expect(ids).not.toContain(`https://api-${failedAt}.example.com`);
  });
});

describe('H15-10: a PostgreSQL server that refuses the connection is one certbound error (CLI and serve)', () => {
  // The shared server on 127.0.0.1:5432 is only asked for a database or a role that does not exist: nothing changes there.
  it('H15-10: a database that does not exist (3D000) → ERR_DATABASE_OPEN naming the server and how to create it', async () => {
    const url = `postgres://postgres@127.0.0.1:5432/certbound_missing_${process.pid}`;
    const cli = await runCliCaptured({ CERTBOUND_DATABASE_URL: url }, 'client', 'list');
    expect(cli.code).toBe(1);
    expectOneCertboundError(cli.err, url, /has no such database/, /createdb/);
    const serve = await serveError(url);
    expect(serve.code).toBe(1);
    expectOneCertboundError(serve.err, url, /has no such database/, /createdb/);
  });

  it('H15-10: a role that does not exist (28000) → ERR_DATABASE_OPEN naming the login as the problem', async () => {
    const url = `postgres://certbound_nobody_${process.pid}@127.0.0.1:5432/test`;
    const cli = await runCliCaptured({ CERTBOUND_DATABASE_URL: url }, 'client', 'list');
    expect(cli.code).toBe(1);
    expectOneCertboundError(cli.err, url, /refused the login/, /user and password/);
  });
});
