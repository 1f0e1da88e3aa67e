/**
 * Last-seen certificates: at most one write per client per minute, queued off the request path.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { createLastSeenRecorder } from '../../src/server/last-seen.js';
import { listLastSeen } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
let mappingId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  const client = await admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' } }, 'test');
  mappingId = client.mappings[0]!.id;
});
afterAll(() => database?.drop());

describe('createLastSeenRecorder', () => {
  it('writes after the call returns, at most once per client per interval; listLastSeen reads it back', async () => {
    let now = 1_800_000_000_000;
    const recorder = createLastSeenRecorder({ db: database.db, logger: pino({ level: 'silent' }), minIntervalMs: 60_000, now: () => now });
    const seen = (x5t: string) => ({ clientId: 'billing', mappingId, x5tS256: x5t, subject: 'CN=billing', notAfter: new Date(now + 86_400_000) });
    recorder.record(seen('first'.padEnd(43, 'A')));
    // queued, not written synchronously
    expect(await listLastSeen(database.db)).toEqual([]);
    await recorder.flush();
    expect((await listLastSeen(database.db)).map((r) => r.x5tS256)).toEqual(['first'.padEnd(43, 'A')]);

    now += 30_000;
    recorder.record(seen('second'.padEnd(43, 'A')));
    await recorder.flush();
    expect((await listLastSeen(database.db))[0]).toMatchObject({ x5tS256: 'first'.padEnd(43, 'A') });

    now += 31_000;
    recorder.record(seen('third'.padEnd(43, 'A')));
    await recorder.flush();
    const rows = await listLastSeen(database.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ clientId: 'billing', mappingId, x5tS256: 'third'.padEnd(43, 'A'), seenAt: new Date(now) });
  });

  it('a client removed in the meantime is skipped, and its rows go with it', async () => {
    const recorder = createLastSeenRecorder({ db: database.db, logger: pino({ level: 'silent' }) });
    recorder.record({ clientId: 'nobody', mappingId: null, x5tS256: 'x'.repeat(43), subject: 'CN=x', notAfter: new Date() });
    await recorder.flush();
    expect((await listLastSeen(database.db)).some((r) => r.clientId === 'nobody')).toBe(false);
    await createAdminService({ db: database.db, signingAlg: 'ES256' }).removeClient('billing', 'test');
    expect(await listLastSeen(database.db)).toEqual([]);
  });
});
