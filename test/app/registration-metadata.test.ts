/** RFC 7591 metadata read into the client use cases' input: what is honoured, ignored and refused. */
import { describe, expect, it } from 'vitest';
import { requestedClient } from '../../src/app/registration-metadata.js';

const limits = { scopes: ['read', 'write'], resources: ['https://api.example.com'] };

function refusal(fn: () => unknown): { code?: string; member?: unknown } {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; details?: { member?: unknown } };
    return { code: e.code, member: e.details?.member };
  }
  throw new Error('expected a refusal');
}

describe('requestedClient', () => {
  it('MD-1/MD-4: one tls_client_auth_* member becomes the mapping; auth method inferred; scopes default to the limits; unknown members ignored', () => {
    const wanted = requestedClient({ tls_client_auth_san_dns: 'a.example.com', logo_uri: 'https://x', client_name: 'A' }, limits);
    expect(wanted.authMethod).toBe('tls_client_auth');
    expect(wanted.input).toEqual({
      scopes: ['read', 'write'],
      defaultResource: 'https://api.example.com',
      boundTokens: false,
      mapping: { kind: 'san_dns', value: 'a.example.com' },
    });
    expect(wanted.members['mapping.value']).toBe('tls_client_auth_san_dns');
    expect(wanted.clientName).toBe('A');
  });

  it('MD-2/MD-11: the members certbound cannot honour are refused, naming the member', () => {
    expect(refusal(() => requestedClient({ token_endpoint_auth_method: 'client_secret_basic' }, limits))).toEqual({
      code: 'ERR_REGISTRATION_METADATA',
      member: 'token_endpoint_auth_method',
    });
    expect(refusal(() => requestedClient({ token_endpoint_auth_method: 'tls_client_auth' }, limits)).member).toBe('tls_client_auth_subject_dn');
    expect(refusal(() => requestedClient({ tls_client_auth_san_dns: 'a', tls_client_auth_san_uri: 'https://a' }, limits)).member).toBe('tls_client_auth_san_uri');
    expect(refusal(() => requestedClient({ tls_client_auth_san_dns: 'a', tls_client_certificate_bound_access_tokens: 'true' }, limits)).member).toBe(
      'tls_client_certificate_bound_access_tokens',
    );
    expect(refusal(() => requestedClient({ tls_client_auth_san_dns: 'a', redirect_uris: ['https://a/cb'] }, limits)).member).toBe('redirect_uris');
    expect(refusal(() => requestedClient({ tls_client_auth_san_dns: 'a', jwks: { keys: [] } }, limits)).member).toBe('jwks');
    expect(refusal(() => requestedClient({ token_endpoint_auth_method: 'private_key_jwt', tls_client_auth_san_dns: 'a' }, limits)).member).toBe('tls_client_auth_san_dns');
    expect(refusal(() => requestedClient({ token_endpoint_auth_method: 'private_key_jwt' }, limits)).member).toBe('jwks');
    expect(refusal(() => requestedClient({ tls_client_auth_san_dns: 'a', scope: 'read admin' }, limits))).toEqual({ code: 'ERR_REGISTRATION_SCOPE', member: 'scope' });
  });

  it('X-1/X-10: a control character in client_name is refused; a huge value is not echoed whole in the refusal', () => {
    for (const name of ['A\u0000B', 'A\nlevel=admin', 'A\u001b[31m', 'A\u202eB'])
      expect(refusal(() => requestedClient({ tls_client_auth_san_dns: 'a', client_name: name }, limits))).toEqual({ code: 'ERR_REGISTRATION_METADATA', member: 'client_name' });
    expect(requestedClient({ tls_client_auth_san_dns: 'a', client_name: 'Ünïcode Partner' }, limits).clientName).toBe('Ünïcode Partner');
    for (const metadata of [{ token_endpoint_auth_method: 'a'.repeat(60_000) }, { tls_client_auth_san_dns: 'a', scope: 'nope '.repeat(12_000).trim() }]) {
      const message = (() => {
        try {
          requestedClient(metadata, limits);
        } catch (err) {
          return (err as Error).message;
        }
        throw new Error('expected a refusal');
      })();
      expect(message.length).toBeLessThan(400);
    }
  });

  it('jwks and jwks_uri go to the members of the method', () => {
    expect(requestedClient({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://a/jwks' }, limits).input.privateKeyJwtJwksUri).toBe('https://a/jwks');
    expect(requestedClient({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [{ kty: 'EC' }] } }, limits).input.selfSignedJwks).toBe(
      '{"keys":[{"kty":"EC"}]}',
    );
  });
});
