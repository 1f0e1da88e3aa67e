/**
 * The child of kill9-write-burst.test.ts: registers clients (each with its certificate mapping, its
 * revision bump and its audit row, as `certbound client add` does) one after another, and prints
 * `ack <client id>` on stdout once each write has committed, until it is killed.
 */
import { writeSync } from 'node:fs';
import { createAdminService } from '../../src/app/service.js';
import { openDatabase } from '../../src/store/knex.js';

const [filename, resource] = process.argv.slice(2) as [string, string];
const db = openDatabase({ client: 'sqlite', filename });
const admin = createAdminService({ db, signingAlg: 'ES256' });
for (let i = 0; ; i++) {
  const clientId = `burst-${i}`;
  await admin.addClient({ clientId, mapping: { kind: 'san_dns', value: `${clientId}.example.com` }, scopes: ['read'], defaultResource: resource }, 'cli:burst');
  // Synchronous: the acknowledgement is out before the next write starts.
  writeSync(1, `ack ${clientId}\n`);
}
