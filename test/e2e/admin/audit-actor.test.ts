/**
 * The audit actor of an administrator is `admin:<client_id>:<x5t#S256>`; with the longest client id the
 * API accepts (255 characters) it is 305 characters, which PostgreSQL's column must hold (SQLite does not
 * enforce widths, so this guards PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

let s: TestServer;
let admin: AdminCaller;
const LONGEST_ID = `a${'b'.repeat(253)}z`;

beforeAll(async () => {
  s = await startTestServer();
  admin = await createAdminCaller(s, ['certbound:admin'], { clientId: LONGEST_ID });
});
afterAll(() => s?.close());

describe('audit actor', () => {
  it('SC-6: an administrator whose client id has 255 characters writes through the admin API, audited with its full actor (no 5xx on PostgreSQL)', async () => {
    expect(LONGEST_ID).toHaveLength(255);
    const res = await admin.call('POST', '/admin/resource-servers', { body: { identifier: 'https://long-admin.example.com', scope: 'read' } });
    expect(res.status, res.text).toBe(201);
    const row = await s.database.db('audit_log').where({ target: 'resource:https://long-admin.example.com' }).first();
    expect(row.actor).toBe(`admin:${LONGEST_ID}:${x5tS256(admin.client.der)}`);
    expect(String(row.actor)).toHaveLength(305);
  });
});
