/**
 * A listener that cannot open: the error names the port and the setting that chose it, and the server
 * leaves nothing open behind it (the main listener that did open is closed again).
 */
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../../src/app/service.js';
import { loadConfig } from '../../../src/config/index.js';
import { startServer } from '../../../src/server/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { freePort } from '../../helpers/net.js';
import { createTestPki, type TestPki } from '../../helpers/pki.js';

let database: TestDatabase;
let pki: TestPki;

beforeAll(async () => {
  database = await createTestDatabase();
  pki = await createTestPki();
  await createAdminService({ db: database.db, signingAlg: 'ES256' }).ensureActiveKey('test');
});
afterAll(() => database?.drop());

describe('listeners', () => {
  it('a taken mTLS port → ERR_LISTEN naming CERTBOUND_MTLS_PORT; the main port it had opened is free again', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    const port = await freePort();
    const config = loadConfig({
      env: {},
      overrides: {
        issuer: `https://localhost:${port}`,
        mtlsUrl: `https://localhost:${taken}`,
        port,
        mtlsPort: taken,
        host: '127.0.0.1',
        databaseUrl: database.url,
        logLevel: 'silent',
      },
    });
    try {
      await expect(
        startServer({ config, db: database.db, logger: pino({ level: 'silent' }), tls: { cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem } }),
      ).rejects.toMatchObject({
        code: 'ERR_LISTEN',
        message: `Cannot listen on 127.0.0.1:${taken} (CERTBOUND_MTLS_PORT): the port is already in use by another process.`,
      });
      const probe = createNetServer();
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(port, '127.0.0.1', resolve);
      });
      probe.close();
    } finally {
      blocker.close();
    }
  });
});
