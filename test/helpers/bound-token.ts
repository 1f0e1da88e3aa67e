/**
 * The success-path assertion for certificate-bound tokens (H15-11): a token that was accepted must also
 * be shown to belong to the right client, to be bound to the certificate that was presented (its
 * `cnf.x5t#S256` is that certificate's SHA-256 thumbprint) and to carry the expected scopes.
 */
import { expect } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import type { VerifiedRequest } from '../../src/verifier/index.js';

export interface ExpectedBinding {
  clientId: string;
  /** DER of the certificate the token must be bound to. */
  certificate: Uint8Array;
  scopes: readonly string[];
}

/** Awaits a verifier result and checks client, binding and scopes; returns the result for further checks. */
export async function expectBoundToken(result: VerifiedRequest | Promise<VerifiedRequest>, expected: ExpectedBinding): Promise<VerifiedRequest> {
  const verified = await result;
  const thumbprint = x5tS256(expected.certificate);
  expect(verified.clientId).toBe(expected.clientId);
  expect(verified.thumbprint).toBe(thumbprint);
  expect((verified.claims.cnf as Record<string, unknown> | undefined)?.['x5t#S256']).toBe(thumbprint);
  expect([...verified.scopes].sort()).toEqual([...expected.scopes].sort());
  return verified;
}
