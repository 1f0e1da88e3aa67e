/**
 * Access tokens for the verifier scenarios, shaped like certbound's (RFC 9068 `at+jwt`, ES256, `cnf`
 * bound to the load generator's client certificate), and the order in which a run sends them.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';

export async function signTokens(count: number, signingJwk: JWK, claims: Record<string, unknown>): Promise<string[]> {
  const key = await importJWK(signingJwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    tokens[i] = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signingJwk.kid as string })
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key);
  }
  return tokens;
}

/** How a run picks tokens: `active` tokens in use at once, round-robin, each sent `reuse` times. */
export interface TokenUse {
  reuse: number;
  active: number;
}

/**
 * Index into the pool of request `n` of a run that starts at pool position `start`: requests go
 * round-robin over `active` tokens; after `active * reuse` requests the next `active` tokens are used.
 * With `reuse: 1, active: 1` every request gets the next token of the pool.
 */
export function tokenIndex(n: number, start: number, use: TokenUse, poolSize: number): number {
  const generation = Math.floor(n / (use.active * use.reuse));
  return (start + generation * use.active + (n % use.active)) % poolSize;
}

/** Pool position after a run of `requests` requests, so the next run continues with fresh tokens. */
export function nextStart(requests: number, start: number, use: TokenUse): number {
  return start + Math.ceil(requests / (use.active * use.reuse)) * use.active;
}
