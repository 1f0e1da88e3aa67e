/**
 * An undici dispatcher whose every connection goes only to addresses the outbound policy allows
 * (address-policy.ts): an IP literal is checked before any socket exists, and a name is resolved once,
 * every address checked, and the socket given only the checked ones (no DNS rebinding between check and
 * connection). TLS still verifies the server certificate against the host name. Redirects are never
 * followed by undici's `request`, so a refused address cannot be reached through a 30x either.
 */
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { createGuardedLookup, type OutboundAddressPolicy, type Resolver, refuseLiteral } from './address-policy.js';

export interface GuardedAgentOptions {
  policy: OutboundAddressPolicy;
  /** Extra CA certificates (PEM) trusted besides Node's bundled ones (CERTBOUND_OUTBOUND_CA_FILE). */
  ca?: string | undefined;
  /** Connect, headers and body timeout, ms. */
  timeoutMs: number;
  /** Name resolution, for tests of the address check. Default: the system resolver. */
  resolve?: Resolver | undefined;
}

/**
 * @example
 * const agent = createGuardedAgent({ policy: createOutboundAddressPolicy(), timeoutMs: 5_000 });
 * const res = await request('https://client.example.com/jwks.json', { dispatcher: agent });
 */
export function createGuardedAgent({ policy, ca, timeoutMs, resolve }: GuardedAgentOptions): Agent {
  const connector = buildConnector({ ...(ca ? { ca: [...rootCertificates, ca] } : {}), timeout: timeoutMs, lookup: createGuardedLookup(policy, resolve) });
  return new Agent({
    // An IP literal is connected to without a lookup: it is checked here, before any socket exists.
    connect: (opts, callback) => {
      const refused = refuseLiteral(policy, opts.hostname);
      if (refused) return callback(refused, null);
      return connector(opts, callback);
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}
