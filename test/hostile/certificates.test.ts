/**
 * Hostile corpus, client certificates over the client's own TLS handshake: the certificate table
 * (cases/certificates.ts) at the mTLS token endpoint of a real server, real database.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestPki } from '../helpers/pki.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type CertCase, certificateCases } from './cases/certificates.js';
import { checkTable, createTally, rows } from './lib/corpus.js';
import { type CertKit, createCertKit } from './lib/certs.js';
import { postPresenting, registerCertClients, tokenOutcome } from './lib/setup.js';

checkTable(certificateCases);
const cases = rows(certificateCases.map((c): CertCase => ({ ...c, finding: c.finding ?? c.findingOn?.direct })));
const tally = createTally('certificates, direct TLS');
let s: TestServer;
let k: CertKit;

beforeAll(async () => {
  const pki = await createTestPki('Hostile');
  [s, k] = await Promise.all([startTestServer({ pki }), createCertKit(pki)]);
  await registerCertClients(s, k);
});
afterAll(async () => {
  console.log(tally.summary());
  await s?.close();
});

describe('hostile corpus: client certificates over direct TLS', () => {
  it.each(cases)('%s', async (_title, c) => {
    const presented = await c.present(k);
    const form: Record<string, string> = { grant_type: 'client_credentials', ...(c.clientId === null ? {} : { client_id: c.clientId }) };
    const res = await postPresenting(s, `${s.handle.mtlsUrl}/token`, presented, form);
    tally.judge(c, tokenOutcome(res, presented?.der));
  });
});
