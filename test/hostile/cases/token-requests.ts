/**
 * Token request parameters at the token endpoint (RFC 6749 §4.4, RFC 8707): the client `tr` holds `read`
 * on API; `tr-none` holds no scope anywhere; API2 exists but `tr` holds nothing there. Pushed
 * authorization requests (RFC 9126): `tr-pub` is a public code-flow client (redirect URI
 * https://x.example/cb, `read` on API).
 */
import type { HostileCase } from '../lib/corpus.js';

export const TR_API = 'https://api.hostile.example';
export const TR_API2 = 'https://api2.hostile.example';

export interface TokenRequestKit {
  adminResource: string;
  /** The public base URL of the mTLS listener, as discovery's mtls_endpoint_aliases give it. */
  mtlsAlias: string;
}

export interface TokenRequestCase extends HostileCase {
  /** Path on the listener; default /token. */
  path?: string;
  listener?: 'mtls' | 'main';
  method?: string;
  /** Form parameters (repeated when an array), or a raw body with its content type. */
  form?(k: TokenRequestKit): Record<string, string | string[]>;
  raw?(k: TokenRequestKit): { body: string; contentType: string };
  query?: string;
  headers?: Record<string, string>;
  /** Present the certificate of `tr` (default) or of `tr-none`, or none. */
  cert?: 'tr' | 'tr-none' | 'none';
  /** When a token is issued, its scope claim must be exactly this. */
  scopeIs?: string;
  /** Whether the answer is an accept, when it is not a token response (discovery). */
  acceptedWhen?(body: Record<string, unknown>, status: number): boolean;
  /** Further checks of a refusal (the H15-7 description). */
  refusal?: { descriptionContains?: (k: TokenRequestKit) => string; error?: string[] };
}

const cc = (extra: Record<string, string | string[]> = {}) => ({ grant_type: 'client_credentials', client_id: 'tr', ...extra });
const R = (id: number) => `TREQ-${String(id).padStart(2, '0')}`;
const grant = (g: string) => () => ({
  grant_type: g,
  client_id: 'tr',
  code: 'x',
  username: 'u',
  password: 'p',
  refresh_token: 'r',
  device_code: 'd',
  subject_token: 's',
  subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  assertion: 'a.b.c',
  redirect_uri: 'https://x.example/cb',
});

export const tokenRequestCases: TokenRequestCase[] = [
  { id: R(1), guards: ['G-1'], title: 'client_credentials with the granted scope → token', expect: 'accept', form: () => cc({ scope: 'read' }), scopeIs: 'read' },
  {
    id: R(2),
    guards: ['H15-1'],
    title: 'scope omitted, the client holds scopes on the resource → a token with exactly those',
    expect: 'accept',
    form: () => cc(),
    scopeIs: 'read',
  },
  {
    id: R(3),
    guards: ['H15-1'],
    finding: 'H15-1',
    title: 'a client holding no scope, scope omitted',
    expect: 'refuse',
    cert: 'tr-none',
    form: () => ({ grant_type: 'client_credentials', client_id: 'tr-none' }),
    refusal: { error: ['invalid_scope', 'invalid_target'] },
  },
  {
    id: R(4),
    guards: ['H15-1'],
    finding: 'H15-1',
    title: 'a client holding no scope, scope empty',
    expect: 'refuse',
    cert: 'tr-none',
    form: () => ({ grant_type: 'client_credentials', client_id: 'tr-none', scope: '' }),
    refusal: { error: ['invalid_scope', 'invalid_target'] },
  },
  {
    id: R(5),
    guards: ['H15-1'],
    finding: 'H15-1',
    title: 'a client holding no scope, scope blank',
    expect: 'refuse',
    cert: 'tr-none',
    form: () => ({ grant_type: 'client_credentials', client_id: 'tr-none', scope: '   ' }),
    refusal: { error: ['invalid_scope', 'invalid_target', 'invalid_request'] },
  },
  {
    id: R(6),
    guards: ['H15-1'],
    finding: 'H15-1',
    title: 'an explicit resource on which the client holds nothing, scope omitted',
    expect: 'refuse',
    form: () => cc({ resource: TR_API2 }),
    refusal: { error: ['invalid_scope', 'invalid_target'] },
  },
  {
    id: R(7),
    guards: ['H15-1'],
    finding: 'H15-1',
    title: 'the admin resource, scope omitted',
    expect: 'refuse',
    form: (k) => cc({ resource: k.adminResource }),
    refusal: { error: ['invalid_scope', 'invalid_target'] },
  },
  { id: R(8), guards: ['H15-1'], title: 'the admin resource with certbound:admin', expect: 'refuse', form: (k) => cc({ resource: k.adminResource, scope: 'certbound:admin' }) },
  { id: R(9), guards: ['H15-1'], finding: 'H15-1', title: 'the admin resource with an empty scope', expect: 'refuse', form: (k) => cc({ resource: k.adminResource, scope: '' }) },
  { id: R(10), guards: ['H15-1'], title: 'a scope the client does not hold (write)', expect: 'refuse', form: () => cc({ scope: 'write' }) },
  { id: R(11), guards: ['H15-1'], title: 'a granted and a withheld scope (read write)', expect: 'refuse', form: () => cc({ scope: 'read write' }) },
  { id: R(12), guards: ['H15-1'], title: 'the granted scope on a resource where it means nothing (API2)', expect: 'refuse', form: () => cc({ scope: 'read', resource: TR_API2 }) },
  { id: R(13), guards: ['H15-8'], title: 'scope openid', expect: 'refuse', form: () => cc({ scope: 'openid' }) },
  { id: R(14), guards: ['H15-1'], title: 'scope read with a trailing NUL', expect: 'refuse', form: () => cc({ scope: 'read\u0000' }) },
  { id: R(15), guards: ['H15-1'], title: 'a 100 KB scope', expect: 'refuse', form: () => cc({ scope: `read ${'x'.repeat(100_000)}` }) },
  { id: R(16), guards: ['G-1'], title: 'an unregistered resource', expect: 'refuse', form: () => cc({ resource: 'https://unknown.hostile.example' }) },
  { id: R(17), guards: ['G-1'], title: 'a resource with a fragment', expect: 'refuse', form: () => cc({ resource: `${TR_API}#frag` }) },
  { id: R(18), guards: ['G-1'], title: 'a relative resource', expect: 'refuse', form: () => cc({ resource: '/api' }) },
  { id: R(19), guards: ['G-1'], title: 'two resources', expect: 'refuse', form: () => cc({ resource: [TR_API, TR_API2] }) },
  { id: R(20), guards: ['G-1'], title: 'grant_type twice', expect: 'refuse', form: () => ({ grant_type: ['client_credentials', 'client_credentials'], client_id: 'tr' }) },
  { id: R(21), guards: ['G-3'], title: 'client_id twice (tr and another)', expect: 'refuse', form: () => ({ grant_type: 'client_credentials', client_id: ['tr', 'tr-none'] }) },
  { id: R(22), guards: ['H15-1'], title: 'scope twice', expect: 'refuse', form: () => cc({ scope: ['read', 'write'] }) },
  { id: R(23), guards: ['IC-9'], title: 'grant_type authorization_code', expect: 'refuse', form: grant('authorization_code') },
  { id: R(24), guards: ['IC-9'], title: 'grant_type password', expect: 'refuse', form: grant('password') },
  { id: R(25), guards: ['SC-1'], title: 'grant_type refresh_token', expect: 'refuse', form: grant('refresh_token') },
  { id: R(26), guards: ['IC-9'], title: 'grant_type device_code', expect: 'refuse', form: grant('urn:ietf:params:oauth:grant-type:device_code') },
  { id: R(27), guards: ['IC-9'], title: 'grant_type token-exchange', expect: 'refuse', form: grant('urn:ietf:params:oauth:grant-type:token-exchange') },
  { id: R(28), guards: ['IC-9'], title: 'grant_type jwt-bearer', expect: 'refuse', form: grant('urn:ietf:params:oauth:grant-type:jwt-bearer') },
  { id: R(29), guards: ['IC-9'], title: 'grant_type implicit', expect: 'refuse', form: grant('implicit') },
  { id: R(30), guards: ['IC-9'], title: 'grant_type client_credentials with a trailing space', expect: 'refuse', form: grant('client_credentials ') },
  { id: R(31), guards: ['G-1'], title: 'no grant_type', expect: 'refuse', form: () => ({ client_id: 'tr' }) },
  { id: R(32), guards: ['G-1'], title: 'a JSON body', expect: 'refuse', raw: () => ({ body: JSON.stringify(cc()), contentType: 'application/json' }) },
  {
    id: R(33),
    guards: ['G-1'],
    title: 'a form body labelled text/plain',
    expect: 'refuse',
    raw: () => ({ body: new URLSearchParams(cc()).toString(), contentType: 'text/plain' }),
  },
  {
    id: R(34),
    guards: ['G-1'],
    title: 'a multipart/form-data body',
    expect: 'refuse',
    raw: () => ({
      body: '--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--b\r\nContent-Disposition: form-data; name="client_id"\r\n\r\ntr\r\n--b--\r\n',
      contentType: 'multipart/form-data; boundary=b',
    }),
  },
  { id: R(35), guards: ['G-1'], title: 'GET with the parameters in the query', expect: 'refuse', method: 'GET', query: 'grant_type=client_credentials&client_id=tr' },
  {
    id: R(36),
    guards: ['G-1'],
    title: 'POST with the parameters in the query and an empty form',
    expect: 'refuse',
    query: 'grant_type=client_credentials&client_id=tr',
    raw: () => ({ body: '', contentType: 'application/x-www-form-urlencoded' }),
    refusal: { error: ['invalid_request'] },
  },
  {
    id: R(37),
    guards: ['G-1'],
    title: 'a 2 MB body',
    expect: 'refuse',
    raw: () => ({ body: `${new URLSearchParams(cc()).toString()}&pad=${'x'.repeat(2_000_000)}`, contentType: 'application/x-www-form-urlencoded' }),
  },
  {
    id: R(38),
    guards: ['G-3', 'G-4'],
    title: 'client_id tr in the body, Basic credentials of tr-none',
    expect: 'refuse',
    form: () => cc(),
    headers: { authorization: `Basic ${Buffer.from('tr-none:secret').toString('base64')}` },
  },
  { id: R(40), guards: ['G-3'], title: 'a 10 000 character client_id', expect: 'refuse', form: () => cc({ client_id: 'a'.repeat(10_000) }) },
  { id: R(41), guards: ['G-3'], title: 'client_id with a NUL', expect: 'refuse', form: () => cc({ client_id: 'tr\u0000' }) },
  { id: R(42), guards: ['G-1'], title: 'PUT /token', expect: 'refuse', method: 'PUT', form: () => cc() },
  {
    id: R(43),
    guards: ['H15-7', 'G-2'],
    finding: 'H15-7',
    title: 'token request at the main listener: invalid_client naming the mTLS alias',
    expect: 'refuse',
    listener: 'main',
    form: () => cc(),
    refusal: { error: ['invalid_client'], descriptionContains: (k) => `${k.mtlsAlias}/token` },
  },
  {
    id: R(44),
    guards: ['H15-7', 'G-2'],
    finding: 'H15-7',
    title: 'introspection at the main listener: invalid_client naming the mTLS alias',
    expect: 'refuse',
    listener: 'main',
    path: '/token/introspection',
    form: () => ({ client_id: 'tr', token: 'x' }),
    refusal: { error: ['invalid_client'], descriptionContains: (k) => `${k.mtlsAlias}/token/introspection` },
  },
  {
    id: R(45),
    guards: ['H15-7', 'G-2'],
    finding: 'H15-7',
    title: 'revocation at the main listener: invalid_client naming the mTLS alias',
    expect: 'refuse',
    listener: 'main',
    path: '/token/revocation',
    form: () => ({ client_id: 'tr', token: 'x' }),
    refusal: { error: ['invalid_client'], descriptionContains: (k) => `${k.mtlsAlias}/token/revocation` },
  },
  { id: R(46), guards: ['G-2', 'G-5'], title: 'no client certificate', expect: 'refuse', cert: 'none', form: () => cc() },
  {
    id: R(48),
    guards: ['H15-8'],
    finding: 'H15-8',
    title: 'discovery offers no openid scope (accepted here means scopes_supported lists openid)',
    expect: 'refuse',
    listener: 'main',
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    acceptedWhen: (body) => Array.isArray(body.scopes_supported) && body.scopes_supported.includes('openid'),
  },
  {
    id: R(47),
    guards: ['IC-9'],
    title: 'the authorization endpoint with response_type=token',
    expect: 'refuse',
    listener: 'main',
    method: 'GET',
    path: '/auth',
    query: 'client_id=tr&response_type=token&scope=read&redirect_uri=https%3A%2F%2Fx.example',
  },
  ...(
    [
      { id: 49, title: 'a pushed authorization request from a client not registered for the code flow', form: { client_id: 'tr' } },
      { id: 54, title: 'a valid pushed authorization request of the code-flow client → a request_uri', form: {}, expect: 'accept' },
      { id: 50, title: 'a pushed authorization request for response_type=token (implicit)', form: { response_type: 'token' } },
      { id: 51, title: 'a pushed authorization request for response_type=code id_token (hybrid)', form: { response_type: 'code id_token', nonce: 'n' } },
      { id: 52, title: 'a pushed authorization request with PKCE plain', form: { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) } },
      { id: 53, title: 'a pushed authorization request without PKCE', form: { code_challenge: '', code_challenge_method: '' } },
    ] as { id: number; title: string; form: Record<string, string>; expect?: 'refuse' | 'accept' }[]
  ).map(
    ({ id, title, form, expect = 'refuse' }): TokenRequestCase => ({
      id: R(id),
      guards: ['IC-9', 'AL-4'],
      title,
      expect,
      path: '/request',
      form: () => {
        const base: Record<string, string> = {
          client_id: 'tr-pub',
          response_type: 'code',
          redirect_uri: 'https://x.example/cb',
          scope: 'read',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          ...form,
        };
        for (const [k, v] of Object.entries(base)) if (v === '') delete base[k];
        return base;
      },
      // A pushed request is accepted when it gets a request_uri.
      acceptedWhen: (body, status) => status === 201 || typeof body.request_uri === 'string',
    }),
  ),
];
