/**
 * The client metadata oidc-provider sees (src/server/client-metadata.ts): a client_credentials client as
 * before the code flow came; a code-flow client with its redirect URIs, response type and PAR setting; a
 * public client with bound tokens and only the grants a public client may use.
 */
import { describe, expect, it } from 'vitest';
import { toClientMetadata } from '../../src/server/client-metadata.js';
import type { ClientRecord } from '../../src/store/index.js';

function record(overrides: Partial<ClientRecord>): ClientRecord {
  const at = new Date(0);
  return {
    clientId: 'c',
    authMethod: 'tls_client_auth',
    boundTokens: true,
    scopes: ['read'],
    defaultResource: null,
    jwks: null,
    jwksUri: null,
    grantTypes: ['client_credentials'],
    redirectUris: [],
    requirePar: true,
    metadata: {},
    mappings: [],
    registration: null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

describe('client metadata for oidc-provider', () => {
  it('a client_credentials client: that grant only, no response type, no redirect URI', () => {
    const m = toClientMetadata(record({}));
    expect(m).toMatchObject({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'tls_client_auth' });
  });

  it('a code-flow client: response type code, its redirect URIs as registered, PAR required unless registered without', () => {
    const m = toClientMetadata(record({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'], requirePar: false }));
    expect(m).toMatchObject({
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://app.example/cb'],
      require_pushed_authorization_requests: false,
    });
    expect(toClientMetadata(record({ grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb'] })).require_pushed_authorization_requests).toBe(true);
  });

  it('PUB-1: a public client (none) always gets bound tokens, and never client_credentials', () => {
    const m = toClientMetadata(
      record({ authMethod: 'none', boundTokens: false, grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'] }),
    );
    expect(m).toMatchObject({ token_endpoint_auth_method: 'none', tls_client_certificate_bound_access_tokens: true, grant_types: ['authorization_code', 'refresh_token'] });
    expect(m).not.toHaveProperty('certbound_mappings');
  });
});
