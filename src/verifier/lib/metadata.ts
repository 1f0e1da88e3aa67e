import { type Fetcher, readJsonObject } from './http.js';

/** The RFC 8414 members the verifier uses. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  mtls_endpoint_aliases?: { introspection_endpoint?: string };
  [member: string]: unknown;
}

/**
 * Where an issuer's metadata may live, in the order tried: RFC 8414 §3 (well-known inserted between host
 * and path), then the OpenID Connect Discovery form (appended), then the appended RFC 8414 form that
 * some servers use for issuers with a path.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const base = issuer.replace(/\/$/, '');
  const urls = [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${base}/.well-known/openid-configuration`, `${base}/.well-known/oauth-authorization-server`];
  return [...new Set(urls)];
}

function httpsUrl(value: unknown, member: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`metadata member ${member} is not a string`);
  if (new URL(value).protocol !== 'https:') throw new Error(`metadata member ${member} is not an https URL`);
  return value;
}

/** Fetches and checks the issuer's metadata: `issuer` must equal the configured value exactly (RFC 8414 §3.3). */
export async function discoverMetadata(issuer: string, fetcher: Fetcher): Promise<IssuerMetadata> {
  const failures: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const response = await fetcher(url, { headers: { accept: 'application/json' } });
    if (response.status !== 200) {
      await response.body?.cancel();
      failures.push(`${url} → ${response.status}`);
      continue;
    }
    const json = await readJsonObject(response);
    if (json.issuer !== issuer) {
      throw new Error(`metadata at ${url} names issuer ${JSON.stringify(json.issuer)}, expected ${JSON.stringify(issuer)}`);
    }
    const aliases = json.mtls_endpoint_aliases;
    const metadata: IssuerMetadata = { ...json, issuer };
    const jwksUri = httpsUrl(json.jwks_uri, 'jwks_uri');
    const introspection = httpsUrl(json.introspection_endpoint, 'introspection_endpoint');
    if (jwksUri) metadata.jwks_uri = jwksUri;
    if (introspection) metadata.introspection_endpoint = introspection;
    if (aliases && typeof aliases === 'object') {
      const alias = httpsUrl((aliases as Record<string, unknown>).introspection_endpoint, 'mtls_endpoint_aliases.introspection_endpoint');
      metadata.mtls_endpoint_aliases = alias ? { introspection_endpoint: alias } : {};
    }
    return metadata;
  }
  throw new Error(`no authorization server metadata found (${failures.join(', ')})`);
}
