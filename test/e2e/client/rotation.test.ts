/**
 * IC-8 end to end: a client app whose certificate files are rotated on disk. A half-written rotation
 * keeps the old pair (reported); the completed one makes new connections present the new certificate,
 * drops the tokens bound to the old one, and the next token from certbound is bound to the new one.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../../examples/resource-server.js';
import { type CertboundClientError, createTokenClient } from '../../../src/client/index.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://demo-api.certbound.test';
let s: TestServer;
let rs: ReturnType<typeof createExampleApp>;
let rsUrl: string;

function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** A promise of the next call of a callback, and the callback. */
function nextCall<T>(): { promise: Promise<T>; callback: (value: T) => void; reset(): void } {
  let resolve!: (value: T) => void;
  const handle = {
    promise: undefined as unknown as Promise<T>,
    callback: (value: T) => resolve(value),
    reset() {
      handle.promise = new Promise<T>((r) => {
        resolve = r;
      });
    },
  };
  handle.reset();
  return handle;
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['demo.read'] }, 'test');
  await s.admin.addClient({ clientId: 'app', mapping: { kind: 'san_dns', value: 'app.example.com' }, scopes: ['demo.read'], defaultResource: API }, 'test');
  rs = createExampleApp({ issuer: s.issuer, audience: API, ca: s.pki.root.pem, cert: s.pki.server.pem + s.pki.intermediate.pem, key: s.pki.server.keyPem });
  await new Promise<void>((r) => rs.server.listen(0, '127.0.0.1', () => r()));
  rsUrl = `https://localhost:${(rs.server.address() as AddressInfo).port}/orders`;
});
afterAll(async () => {
  await rs?.verifier.close();
  await new Promise((r) => rs?.server.close(r));
  await s?.close();
});

describe('certificate rotation on disk', () => {
  it('IC-8/PKI-6: half-written keeps the old pair; the new pair is used for new connections and new tokens', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-rotation-'));
    const certFile = path.join(dir, 'client.pem');
    const keyFile = path.join(dir, 'client.key');
    const oldCert = await s.pki.client({ subject: [{ CN: ['app'] }], san: [{ type: 'dns', value: 'app.example.com' }] });
    const newCert = await s.pki.client({ subject: [{ CN: ['app'] }], san: [{ type: 'dns', value: 'app.example.com' }] });
    writeFileSync(certFile, s.pki.chainOf(oldCert));
    writeFileSync(keyFile, oldCert.keyPem);
    const rotated = nextCall<{ thumbprint: string; previousThumbprint: string }>();
    const failed = nextCall<CertboundClientError>();
    const client = createTokenClient({
      issuer: s.issuer,
      clientId: 'app',
      credentials: { certFile, keyFile },
      tls: { ca: s.pki.root.pem },
      watch: { pollIntervalMs: 100 },
      onRotation: rotated.callback,
      onRotationError: failed.callback,
    });
    try {
      const before = await client.getToken({ resource: API });
      expect(before.thumbprint).toBe(x5tS256(oldCert.der));

      replace(certFile, s.pki.chainOf(newCert));
      const error = await failed.promise;
      expect(error.code).toBe('KEY_MISMATCH');
      expect(client.thumbprint).toBe(x5tS256(oldCert.der));
      expect(await client.getToken({ resource: API })).toBe(before);
      const stillOld = await client.fetch(rsUrl, { resource: API });
      expect(await stillOld.json()).toMatchObject({ 'x5t#S256': x5tS256(oldCert.der) });

      replace(keyFile, newCert.keyPem);
      expect(await rotated.promise).toEqual({ thumbprint: x5tS256(newCert.der), previousThumbprint: x5tS256(oldCert.der) });
      const after = await client.getToken({ resource: API });
      expect(after.accessToken).not.toBe(before.accessToken);
      await expectIssuedToken(
        s,
        { status: 200, body: { access_token: after.accessToken, token_type: 'Bearer', scope: after.scope } },
        { clientId: 'app', presented: newCert, scopes: ['demo.read'], aud: API },
      );
      const res = await client.fetch(rsUrl, { resource: API });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ client_id: 'app', 'x5t#S256': x5tS256(newCert.der) });
    } finally {
      await client.close();
    }
  });
});
