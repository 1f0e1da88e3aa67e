import { expect } from 'vitest';
import { VerifierError } from '../../src/verifier/index.js';

/** Awaits a refusal and asserts its exact status, codes and challenge. */
export async function expectRefusal(
  promise: Promise<unknown>,
  expected: { status: number; code: string; error?: string; description?: string; wwwAuthenticate?: string },
): Promise<VerifierError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a VerifierError').toBeInstanceOf(VerifierError);
  const err = caught as VerifierError;
  expect({ status: err.status, code: err.code }).toEqual({ status: expected.status, code: expected.code });
  if (expected.error !== undefined) expect(err.error).toBe(expected.error);
  if (expected.description !== undefined) expect(err.description).toBe(expected.description);
  if (expected.wwwAuthenticate !== undefined) expect(err.wwwAuthenticate).toBe(expected.wwwAuthenticate);
  return err;
}

export const invalidToken = (description: string, code = 'ERR_VERIFIER_TOKEN_INVALID') => ({
  status: 401,
  code,
  error: 'invalid_token',
  description,
  wwwAuthenticate: `Bearer realm="https://api.example.com", error="invalid_token", error_description="${description}"`,
});
