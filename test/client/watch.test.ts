/**
 * The certificate-file watcher on its own (fake timers drive the poll and the settle delay): a change is
 * loaded once the files settle, a pair that does not load is reported once per reason, and the good
 * pair that follows is taken.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CertboundClientError } from '../../src/client/index.js';
import { type LoadedCredentials, loadCredentials } from '../../src/client/lib/credentials.js';
import { type CredentialWatcher, watchCredentialFiles } from '../../src/client/lib/watch.js';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createTestPki, type Issued } from '../helpers/pki.js';

let a: Issued;
let b: Issued;
let watcher: CredentialWatcher | undefined;

/** Replaces a file the way a careful rotation does: a new file renamed into place. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

beforeAll(async () => {
  const pki = await createTestPki();
  a = await pki.client({ subject: [{ CN: ['a'] }] });
  b = await pki.client({ subject: [{ CN: ['b'] }] });
});
afterEach(() => {
  watcher?.close();
  vi.useRealTimers();
});

describe('watchCredentialFiles', () => {
  it('IC-8: a half-written rotation is reported once with its reason, the completed one is loaded', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-watch-'));
    const certFile = path.join(dir, 'client.pem');
    const keyFile = path.join(dir, 'client.key');
    writeFileSync(certFile, a.pem);
    writeFileSync(keyFile, a.keyPem);
    let current = loadCredentials({ certFile, keyFile });
    const loaded: LoadedCredentials[] = [];
    const errors: CertboundClientError[] = [];
    watcher = watchCredentialFiles([certFile, keyFile], {
      pollIntervalMs: 1000,
      load: () => loadCredentials({ certFile, keyFile }),
      isCurrent: (c) => c.thumbprint === current.thumbprint,
      onLoaded: (c) => {
        current = c;
        loaded.push(c);
      },
      onError: (e) => errors.push(e),
    });

    replace(certFile, b.pem); // the new certificate, the old key still in place
    await vi.advanceTimersByTimeAsync(1500);
    expect(errors.map((e) => e.code)).toEqual(['KEY_MISMATCH']);
    expect(errors[0]!.message).toMatch(/^certificate rotation not applied, the previous certificate stays in use: the key file .*client\.key does not belong to the certificate/);
    expect(loaded).toEqual([]);

    replace(certFile, `${b.pem}\n`); // changed again, same reason: not reported again
    await vi.advanceTimersByTimeAsync(1500);
    expect(errors).toHaveLength(1);

    replace(keyFile, b.keyPem);
    await vi.advanceTimersByTimeAsync(1500);
    expect(loaded.map((c) => c.thumbprint)).toEqual([x5tS256(b.der)]);
    expect(errors).toHaveLength(1);

    replace(certFile, '-----BEGIN CERTIFICATE-----\nMIIB'); // truncated
    await vi.advanceTimersByTimeAsync(1500);
    expect(errors.map((e) => e.code)).toEqual(['KEY_MISMATCH', 'CERTIFICATE_UNREADABLE']);
    expect(current.thumbprint).toBe(x5tS256(b.der));
  });
});
