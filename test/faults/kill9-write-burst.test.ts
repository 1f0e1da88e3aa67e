/**
 * H15-10 (reliability of writes): a process doing a burst of acknowledged admin writes on SQLite is
 * killed with SIGKILL mid-burst. Every write it acknowledged is there afterwards, and nothing partial
 * is: no client without its mapping, no audit row without its client, the file intact. The database is
 * a SQLite file of this test's own, under both CERTBOUND_TEST_DB values.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { migrateLatest, openDatabase } from '../../src/store/knex.js';

const dir = mkdtempSync(path.join(tmpdir(), 'certbound-kill9-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const API = 'https://api.example.com';

describe('H15-10: kill -9 during an admin write burst (SQLite)', () => {
  it('H15-10: every acknowledged client is stored with its mapping and audit row; nothing partial; integrity_check ok', async () => {
    const filename = path.join(dir, 'certbound.sqlite');
    const setup = openDatabase({ client: 'sqlite', filename });
    await migrateLatest(setup);
    await createAdminService({ db: setup, signingAlg: 'ES256' }).addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
    await setup.destroy();

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/write-burst-child.ts', filename, API], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const killed = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    await new Promise<void>((resolve, reject) => {
      let rest = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line.startsWith('ack ')) acked.push(line.slice(4));
        // Mid-burst: well after the first writes, while the next one is in progress.
        if (acked.length >= 40 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => (acked.length >= 40 ? resolve() : reject(new Error(`the writer ended before the burst: ${stderr}`))));
    });
    expect(await killed).toBe('SIGKILL');

    const db = openDatabase({ client: 'sqlite', filename });
    try {
      expect(await db.raw('pragma integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      const clients = new Set(((await db('clients').select('client_id')) as { client_id: string }[]).map((r) => r.client_id));
      const mapped = new Set(((await db('certificate_mappings').select('client_id')) as { client_id: string }[]).map((r) => r.client_id));
      const audited = new Set(((await db('audit_log').where({ action: 'client.add' }).select('target')) as { target: string }[]).map((r) => r.target));
      // Every acknowledged write survived.
      for (const id of acked) {
        expect(clients.has(id), `acknowledged ${id} is stored`).toBe(true);
        expect(mapped.has(id), `acknowledged ${id} has its mapping`).toBe(true);
        expect(audited.has(`client:${id}`), `acknowledged ${id} has its audit row`).toBe(true);
      }
      // Nothing partial, acknowledged or not (the write in progress at the kill is all there or all gone).
      for (const id of clients) {
        expect(mapped.has(id), `${id} has its mapping`).toBe(true);
        expect(audited.has(`client:${id}`), `${id} has its audit row`).toBe(true);
      }
      for (const target of audited) expect(clients.has(target.slice('client:'.length)), `${target} has its client`).toBe(true);
      for (const id of mapped) expect(clients.has(id)).toBe(true);
      expect(clients.size - acked.length).toBeLessThanOrEqual(1);
      // The clients revision counts every committed change: servers notice all of them.
      const [row] = (await db('revisions').where({ name: 'clients' }).select('revision')) as { revision: number }[];
      expect(Number(row?.revision)).toBeGreaterThanOrEqual(clients.size);
    } finally {
      await db.destroy();
    }
  }, 60_000);
});
