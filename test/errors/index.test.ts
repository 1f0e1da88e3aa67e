/**
 * The OAuth body builder and serializer of src/errors, and the rule that the server builds no OAuth or
 * admin error body by hand: one builder per surface.
 */
import { describe, expect, it } from 'vitest';
import { CertboundError, InvalidInputError, oauthErrorBody, toOAuthBody } from '../../src/errors/index.js';
import { lineAt, sourceFiles } from './source.js';

describe('oauthErrorBody', () => {
  it('builds { error } and adds error_description only when there is one', () => {
    expect(oauthErrorBody('server_error')).toEqual({ error: 'server_error' });
    expect(JSON.stringify(oauthErrorBody('server_error'))).toBe('{"error":"server_error"}');
    expect(oauthErrorBody('invalid_request', 'bad')).toEqual({ error: 'invalid_request', error_description: 'bad' });
  });
});

describe('toOAuthBody', () => {
  it('passes an exposed 4xx error with its OAuth error and description', () => {
    expect(toOAuthBody({ status: 400, error: 'invalid_scope', error_description: 'no such scope' })).toEqual({
      status: 400,
      body: { error: 'invalid_scope', error_description: 'no such scope' },
    });
    expect(toOAuthBody(new InvalidInputError('ERR_SCOPE_INVALID', 'scope is not valid'))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'scope is not valid' },
    });
  });

  it('turns anything not exposed into server_error without its message', () => {
    const internal = { status: 500, body: { error: 'server_error', error_description: 'an internal error occurred; see the server log' } };
    expect(toOAuthBody(new Error('secret path /etc/x'))).toEqual(internal);
    expect(toOAuthBody(new CertboundError('ERR_DATABASE_UNAVAILABLE', 'db down', { status: 503 }))).toEqual(internal);
    expect(toOAuthBody(new InvalidInputError('ERR_SCOPE_INVALID', 'hidden', { expose: false }))).toEqual(internal);
  });
});

describe('one error body builder per surface', () => {
  const files = sourceFiles();

  it('no OAuth error body is built by hand outside src/errors (the verifier and client libraries speak RFC 6750 and read bodies)', () => {
    const own = files.filter((f) => !/^src\/(errors|verifier|client)\//.test(f.path));
    const byHand = own.flatMap((f) => [...f.code.matchAll(/\{\s*error:\s*['`]|error_description:\s*['`]|'\{"error"/g)].map((m) => `${f.path}:${lineAt(f.code, m.index)}: ${m[0]}`));
    expect(byHand).toEqual([]);
  });

  it('no admin API error body is built by hand outside src/admin-api/errors.ts', () => {
    const byHand = files
      .filter((f) => f.path !== 'src/admin-api/errors.ts')
      .flatMap((f) => [...f.code.matchAll(/\{\s*code:\s*'ERR_\w+',\s*message:/g)].map((m) => `${f.path}:${lineAt(f.code, m.index)}: ${m[0]}`));
    expect(byHand).toEqual([]);
  });

  it('no CLI error text is written outside src/cli/error-output.ts', () => {
    const byHand = files
      .filter((f) => f.path.startsWith('src/cli/') && f.path !== 'src/cli/error-output.ts')
      .flatMap((f) => [...f.code.matchAll(/\.err\(\s*`error: /g)].map((m) => `${f.path}:${lineAt(f.code, m.index)}`));
    expect(byHand).toEqual([]);
  });
});
