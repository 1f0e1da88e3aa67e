/**
 * The success-path assertions for certificate-bound tokens (H15-11): a token that was accepted or issued
 * must also be shown to belong to the right client, to be bound to the certificate that was presented
 * (its `cnf.x5t#S256` is that certificate's SHA-256 thumbprint) and to carry the expected scopes.
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Agent } from 'undici';
import { expect } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import type { VerifiedRequest } from '../../src/verifier/index.js';
import { httpsJson, type JsonResponse } from './net.js';
import type { Issued } from './pki.js';

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

/** The part of a test server (helpers/server.ts) that issued the token: its JWKS and introspection endpoint. */
export interface TokenIssuer {
  issuer: string;
  handle: { mainUrl: string; mtlsUrl: string };
  agent(client?: Issued, chain?: string): Agent;
}

export interface ExpectedIssuedToken {
  clientId: string;
  /**
   * The client certificate of the token request (over TLS or forwarded by a proxy), which the token must
   * be bound to; `null`: the token must not be bound. A bare `{ der }` serves for JWTs only.
   */
  presented: Issued | { der: Uint8Array } | null;
  scopes: readonly string[];
  /** The resource the token is for (RFC 8707). */
  aud: string;
  /**
   * The chain sent with `presented` when it was not leaf + the test intermediate (a self-signed client:
   * its certificate alone); an opaque token is introspected by its own client over the same chain.
   */
  chain?: string;
}

/**
 * Checks a token endpoint response: 200 with a Bearer token whose claims (a JWT verified with the
 * issuer's JWKS; an opaque token introspected as its own client) name the client, the audience, the
 * scopes and the `cnf.x5t#S256` of the presented certificate. Returns the claims for further checks.
 */
export async function expectIssuedToken(
  server: TokenIssuer,
  res: Pick<JsonResponse, 'status' | 'body'> & { text?: string },
  expected: ExpectedIssuedToken,
): Promise<Record<string, unknown>> {
  expect(res.status, res.text ?? JSON.stringify(res.body)).toBe(200);
  expect(res.body.token_type).toBe('Bearer');
  const token = String(res.body.access_token);
  const claims = token.split('.').length === 3 ? await jwtClaims(server, token, expected.aud) : await introspected(server, token, expected);
  expect(claims.iss).toBe(server.issuer);
  expect(claims.client_id).toBe(expected.clientId);
  expect([claims.aud].flat()).toEqual([expected.aud]);
  expect(claims.cnf).toEqual(expected.presented ? { 'x5t#S256': x5tS256(expected.presented.der) } : undefined);
  const scopes = [...expected.scopes].sort();
  expect(
    String(claims.scope ?? '')
      .split(' ')
      .filter(Boolean)
      .sort(),
  ).toEqual(scopes);
  expect(
    String(res.body.scope ?? '')
      .split(' ')
      .filter(Boolean)
      .sort(),
  ).toEqual(scopes);
  return claims;
}

async function jwtClaims(server: TokenIssuer, token: string, aud: string): Promise<Record<string, unknown>> {
  const jwks = await httpsJson(`${server.handle.mainUrl}/jwks`, { agent: server.agent() });
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks.body as never), { issuer: server.issuer, audience: aud, typ: 'at+jwt' });
  return payload as Record<string, unknown>;
}

async function introspected(server: TokenIssuer, token: string, expected: ExpectedIssuedToken): Promise<Record<string, unknown>> {
  if (!expected.presented || !('keyPem' in expected.presented))
    throw new TypeError('an opaque token is introspected by its own client over mTLS: give the Issued certificate it presented (with its key)');
  const res = await httpsJson(`${server.handle.mtlsUrl}/token/introspection`, {
    agent: server.agent(expected.presented, expected.chain),
    form: { token, client_id: expected.clientId },
  });
  expect(res.status, res.text).toBe(200);
  expect(res.body).toMatchObject({ active: true, token_type: 'Bearer' });
  return res.body;
}
