import type { Response } from 'undici';
import { CertboundClientError } from '../errors.js';
import { describeNetworkError, type RetryPolicy, sendWithRetries } from './retry.js';

/** What the client takes from the authorization server's metadata. */
export interface DiscoveredServer {
  issuer: string;
  /** Where token requests go: `mtls_endpoint_aliases.token_endpoint` when present (RFC 8705 §5), else `token_endpoint`. */
  tokenEndpoint: string;
  /** The URL the metadata was read from. */
  metadataUrl: string;
  /** The whole metadata document, for callers that need more. */
  metadata: Readonly<Record<string, unknown>>;
}

/**
 * Where an issuer's metadata may live, in the order tried: RFC 8414 §3 (well-known inserted between host
 * and path), then OpenID Connect Discovery 1.0 §4 (appended).
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const urls = [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`];
  return [...new Set(urls)];
}

function httpsEndpoint(value: unknown, member: string, metadataUrl: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {}
  if (url?.protocol !== 'https:') {
    throw new CertboundClientError('DISCOVERY_FAILED', `the metadata at ${metadataUrl} has no https ${member} (${JSON.stringify(value)})`, {
      hint: 'The authorization server must publish its token endpoint as an https URL; check its configured issuer and mTLS URL.',
    });
  }
  return url.href;
}

/**
 * Reads the issuer's metadata (RFC 8414, then OpenID) and checks that it names the configured issuer
 * exactly (RFC 8414 §3.3): metadata for another issuer would send the client's certificate and token
 * requests to a server it was not configured to trust.
 */
export async function discover(issuer: string, send: (url: string) => Promise<Response>, retry: Required<RetryPolicy>): Promise<DiscoveredServer> {
  const failures: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const outcome = await sendWithRetries(() => send(url), retry);
    if ('networkError' in outcome) {
      failures.push(`${url}: ${describeNetworkError(outcome.networkError)}`);
      continue;
    }
    const { response } = outcome;
    if (response.status !== 200) {
      await response.body?.cancel();
      failures.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (err) {
      failures.push(`${url}: not JSON (${(err as Error).message})`);
      continue;
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      failures.push(`${url}: not a JSON object`);
      continue;
    }
    const metadata = json as Record<string, unknown>;
    if (metadata.issuer !== issuer) {
      throw new CertboundClientError(
        'ISSUER_MISMATCH',
        `the metadata at ${url} names the issuer ${JSON.stringify(metadata.issuer)}, not the configured ${JSON.stringify(issuer)}`,
        {
          hint: `Configure the issuer exactly as the server publishes it (scheme, host, port, path, trailing slash), or fix the server's issuer setting; RFC 8414 §3.3 forbids using metadata for another issuer.`,
        },
      );
    }
    const aliases = metadata.mtls_endpoint_aliases;
    const alias = aliases && typeof aliases === 'object' ? (aliases as Record<string, unknown>).token_endpoint : undefined;
    const tokenEndpoint = alias === undefined ? httpsEndpoint(metadata.token_endpoint, 'token_endpoint', url) : httpsEndpoint(alias, 'mtls_endpoint_aliases.token_endpoint', url);
    return { issuer, tokenEndpoint, metadataUrl: url, metadata };
  }
  throw new CertboundClientError('DISCOVERY_FAILED', `no authorization server metadata for ${issuer} (${failures.join('; ')})`, {
    hint: 'Check the issuer URL, that the server is up and reachable from here, and that tls.ca trusts its certificate. Discovery is tried again on the next call.',
  });
}
