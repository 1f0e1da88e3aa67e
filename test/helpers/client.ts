/** Building and failing `certbound/client` token clients in tests. */
import { expect } from 'vitest';
import { CertboundClientError, createTokenClient, type TokenClient, type TokenClientOptions } from '../../src/client/index.js';
import type { Issued, TestPki } from './pki.js';

/**
 * A token client of `issuer` presenting `cert` (leaf + intermediate) and trusting the test PKI's root, with
 * fast retries; pushed on `opened` so the test can close it.
 */
export function testTokenClient(
  { issuer, pki, cert, retries, opened }: { issuer: string; pki: TestPki; cert: Issued; retries: number; opened: TokenClient[] },
  overrides: Partial<TokenClientOptions> = {},
): TokenClient {
  const c = createTokenClient({
    issuer,
    clientId: 'app',
    credentials: { cert: pki.chainOf(cert), key: cert.keyPem },
    tls: { ca: pki.root.pem },
    retry: { retries, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
  opened.push(c);
  return c;
}

/** The CertboundClientError `p` rejects with (fails the test when it resolves or rejects with anything else). */
export async function caught(p: Promise<unknown>): Promise<CertboundClientError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CertboundClientError);
  return err as CertboundClientError;
}
