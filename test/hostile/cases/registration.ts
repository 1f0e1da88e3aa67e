/**
 * Dynamic client registration (RFC 7591 `POST /register`) and its management (RFC 7592 GET/PUT/DELETE
 * `/register/{id}`) over real mTLS: malformed and mistyped metadata, members that conflict, huge and
 * control-character values, initial access tokens that are missing, garbled, revoked, expired or used up,
 * software statements that do not verify, and registration access tokens of another client. Each case
 * names the status and RFC 7591 error the server answers; a refusal stores nothing.
 */
import type { HostileCase } from '../lib/corpus.js';

/** Where the bearer token comes from. */
export type RegistrationToken =
  /** A fresh initial access token (scope read, one resource), made for the case. */
  | 'iat'
  | 'none'
  | 'garbled'
  | 'revoked'
  | 'expired'
  /** An initial access token whose one use is spent. */
  | 'used-up'
  /** The registration access token of the registration the path names. */
  | 'rat'
  /** The registration access token of the other registered client. */
  | 'other-rat'
  /** A fresh initial access token sent as a registration access token. */
  | 'iat-as-rat'
  /** A fresh initial access token in the query string, not the Authorization header. */
  | 'query'
  /** A fresh initial access token as HTTP Basic credentials. */
  | 'basic'
  /** A fresh initial access token in the JSON body (`access_token`). */
  | 'in-body';

export interface RegistrationCase extends HostileCase {
  method: string;
  /** `/register`, or `/register/{own}` (the registration the owner certificate made), `{other}` (the victim's). */
  path: string;
  /** Default: `iat` on `/register`, `rat` on a registration client URI. */
  token?: RegistrationToken;
  /** Which client certificate the TLS connection presents. Default: `registrant` on `/register`, `owner` elsewhere. */
  cert?: 'registrant' | 'owner' | 'victim' | 'none';
  /** JSON body (serialized); `{ss:…}` strings are replaced by a software statement made at test time. */
  body?: unknown;
  raw?: { body: string; contentType: string };
  /** The status and RFC 7591 `error` the server answers (the error is absent on a 2xx or a 204). */
  status: number;
  error?: string;
}

const R = (id: number) => `REG-${String(id).padStart(3, '0')}`;
let n = 0;
const next = () => R(++n);
/** The registrant certificate's SAN dNSName (what a valid registration names). */
export const REGISTRANT_DNS = 'registrant.hostile.example';
export const OWNER_DNS = 'owner.hostile.example';
const md = (extra: Record<string, unknown> = {}) => ({ tls_client_auth_san_dns: REGISTRANT_DNS, ...extra });
const META = 'invalid_client_metadata';

type Row = readonly [string, unknown, number, string];
const post = (guards: string[], rows: readonly Row[], extra: Partial<RegistrationCase> = {}): RegistrationCase[] =>
  rows.map(([title, body, status, error]) => ({
    id: next(),
    guards,
    title: `POST /register: ${title}`,
    expect: status < 300 ? 'accept' : 'refuse',
    method: 'POST',
    path: '/register',
    body,
    status,
    error,
    ...extra,
  }));

export const registrationCases: RegistrationCase[] = [
  // malformed bodies
  ...(['{', '{"tls_client_auth_san_dns": }', '{"a":1,}', '', '\uFEFF{}', '{"a":1}garbage', 'NaN', `{"a":${'['.repeat(5000)}`] as const).map(
    (body): RegistrationCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `POST /register: malformed JSON ${JSON.stringify(body.slice(0, 24))}`,
      expect: 'refuse',
      method: 'POST',
      path: '/register',
      raw: { body, contentType: 'application/json' },
      status: 400,
      error: META,
    }),
  ),
  ...(['[]', 'null', '"client"', '123', 'true', '[{"tls_client_auth_san_dns":"x"}]'] as const).map(
    (body): RegistrationCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `POST /register: JSON that is not an object ${body.slice(0, 24)}`,
      expect: 'refuse',
      method: 'POST',
      path: '/register',
      raw: { body, contentType: 'application/json' },
      status: 400,
      error: META,
    }),
  ),
  ...(
    [
      ['text/plain', JSON.stringify(md())],
      ['application/x-www-form-urlencoded', `tls_client_auth_san_dns=${REGISTRANT_DNS}`],
      ['application/jwt', 'eyJhbGciOiJub25lIn0.e30.'],
      ['application/jsonx', JSON.stringify(md())],
      ['', JSON.stringify(md())],
    ] as const
  ).map(
    ([contentType, body]): RegistrationCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `POST /register: Content-Type ${JSON.stringify(contentType)}`,
      expect: 'refuse',
      method: 'POST',
      path: '/register',
      raw: { body, contentType },
      status: 400,
      error: META,
    }),
  ),
  {
    id: next(),
    guards: ['X-10'],
    title: 'POST /register: a 70 KB body (over 64 KiB)',
    expect: 'refuse',
    method: 'POST',
    path: '/register',
    body: md({ client_uri: 'x'.repeat(70_000) }),
    status: 413,
    error: META,
  },
  {
    id: next(),
    guards: ['X-10'],
    title: 'POST /register: a 5 MB body',
    expect: 'refuse',
    method: 'POST',
    path: '/register',
    raw: { body: JSON.stringify(md({ pad: 'x'.repeat(5_000_000) })), contentType: 'application/json' },
    status: 413,
    error: META,
  },
  // conflicting members
  ...post(
    ['MD-2'],
    [
      ['two tls_client_auth_* members', md({ tls_client_auth_subject_dn: 'CN=registrant,O=Hostile' }), 400, META],
      ['tls_client_auth_* members all null', { tls_client_auth_san_dns: null, tls_client_auth_subject_dn: null }, 400, META],
      ['no tls_client_auth_* member', { token_endpoint_auth_method: 'tls_client_auth' }, 400, META],
      ['self_signed_tls_client_auth with a tls_client_auth_* member', md({ token_endpoint_auth_method: 'self_signed_tls_client_auth' }), 400, META],
      ['private_key_jwt with a tls_client_auth_* member', md({ token_endpoint_auth_method: 'private_key_jwt' }), 400, META],
      ['tls_client_auth with jwks', md({ jwks: { keys: [] } }), 400, META],
      ['tls_client_auth with jwks_uri', md({ jwks_uri: 'https://jwks.hostile.example/jwks.json' }), 400, META],
      ['private_key_jwt with both jwks and jwks_uri', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] }, jwks_uri: 'https://jwks.hostile.example/' }, 400, META],
      ['private_key_jwt with neither jwks nor jwks_uri', { token_endpoint_auth_method: 'private_key_jwt' }, 400, META],
    ],
  ),
  // unsupported methods and grants
  ...post(
    ['MD-2'],
    [
      ['token_endpoint_auth_method none', md({ token_endpoint_auth_method: 'none' }), 400, META],
      ['token_endpoint_auth_method client_secret_basic', md({ token_endpoint_auth_method: 'client_secret_basic' }), 400, META],
      ['token_endpoint_auth_method client_secret_jwt', md({ token_endpoint_auth_method: 'client_secret_jwt' }), 400, META],
      ['token_endpoint_auth_method TLS_CLIENT_AUTH', md({ token_endpoint_auth_method: 'TLS_CLIENT_AUTH' }), 400, META],
      ['grant_types authorization_code', md({ grant_types: ['authorization_code'] }), 400, META],
      ['grant_types client_credentials and password', md({ grant_types: ['client_credentials', 'password'] }), 400, META],
      ['grant_types urn:ietf:params:oauth:grant-type:jwt-bearer', md({ grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'] }), 400, META],
      ['response_types code', md({ response_types: ['code'] }), 400, META],
      ['a scope beyond the initial access token (read write)', md({ scope: 'read write' }), 400, META],
      ['the admin scope', md({ scope: 'certbound:admin' }), 400, META],
    ],
  ),
  // wrong types for every member
  ...post(
    ['MD-2', 'SC-6'],
    [
      ['scope an array', md({ scope: ['read'] }), 400, META],
      ['scope a number', md({ scope: 1 }), 400, META],
      ['scope empty', md({ scope: '' }), 400, META],
      ['grant_types a string', md({ grant_types: 'client_credentials' }), 400, META],
      ['grant_types an object', md({ grant_types: { 0: 'client_credentials' } }), 400, META],
      ['grant_types holding a number', md({ grant_types: [1] }), 400, META],
      ['jwks a string', { token_endpoint_auth_method: 'private_key_jwt', jwks: '{"keys":[]}' }, 400, META],
      ['jwks an array', { token_endpoint_auth_method: 'private_key_jwt', jwks: [{ kty: 'EC' }] }, 400, META],
      ['jwks with no keys', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }, 400, META],
      ['jwks keys a string', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: 'k' } }, 400, META],
      ['jwks with an HMAC key', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 400, META],
      ['jwks_uri a number', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 42 }, 400, META],
      ['jwks_uri http://', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://jwks.hostile.example/' }, 400, META],
      ['redirect_uris an array', md({ redirect_uris: ['https://app.hostile.example/cb'] }), 400, META],
      ['redirect_uris a string', md({ redirect_uris: 'https://app.hostile.example/cb' }), 400, META],
      ['redirect_uris an object', md({ redirect_uris: {} }), 400, META],
      ['token_endpoint_auth_method a number', md({ token_endpoint_auth_method: 1 }), 400, META],
      ['token_endpoint_auth_method an array', md({ token_endpoint_auth_method: ['tls_client_auth'] }), 400, META],
      ['tls_client_auth_san_dns a number', { tls_client_auth_san_dns: 1 }, 400, META],
      ['tls_client_auth_san_dns an array', { tls_client_auth_san_dns: [REGISTRANT_DNS] }, 400, META],
      ['tls_client_auth_san_dns empty', { tls_client_auth_san_dns: '' }, 400, META],
      ['tls_client_auth_subject_dn an object', { tls_client_auth_subject_dn: { CN: 'registrant' } }, 400, META],
      ['tls_client_certificate_bound_access_tokens "true"', md({ tls_client_certificate_bound_access_tokens: 'true' }), 400, META],
      ['tls_client_certificate_bound_access_tokens 1', md({ tls_client_certificate_bound_access_tokens: 1 }), 400, META],
      ['client_name a number', md({ client_name: 7 }), 400, META],
      ['client_name an object', md({ client_name: { en: 'x' } }), 400, META],
      ['software_statement a number', md({ software_statement: 1 }), 400, 'invalid_software_statement'],
      ['software_statement an object', md({ software_statement: { alg: 'none' } }), 400, 'invalid_software_statement'],
    ],
  ),
  // NUL, control characters and huge strings
  ...post(
    ['X-1', 'X-10'],
    [
      ['a NUL in tls_client_auth_san_dns', { tls_client_auth_san_dns: `${REGISTRANT_DNS}\u0000.evil.example` }, 400, META],
      ['CRLF in tls_client_auth_san_dns', { tls_client_auth_san_dns: `${REGISTRANT_DNS}\r\nX-Injected: 1` }, 400, META],
      ['a NUL in tls_client_auth_subject_dn', { tls_client_auth_subject_dn: 'CN=registrant\u0000,O=Hostile' }, 400, META],
      ['a newline in tls_client_auth_subject_dn', { tls_client_auth_subject_dn: 'CN=registrant,O=Hostile\nCN=admin' }, 400, META],
      ['a NUL in tls_client_auth_san_email', { tls_client_auth_san_email: 'registrant@hostile.example\u0000' }, 400, META],
      ['a NUL in tls_client_auth_san_uri', { tls_client_auth_san_uri: 'spiffe://hostile/registrant\u0000' }, 400, META],
      ['a NUL in client_name', md({ client_name: 'Partner\u0000Admin' }), 400, META],
      ['an ESC sequence in client_name', md({ client_name: 'Partner\u001b[31mRED' }), 400, META],
      ['a newline in client_name', md({ client_name: 'Partner\nlevel=admin' }), 400, META],
      ['a NUL in scope', md({ scope: 'read\u0000' }), 400, META],
      ['a 10 000 character client_name', md({ client_name: 'a'.repeat(10_000) }), 400, META],
      ['a 60 000 character tls_client_auth_san_dns', { tls_client_auth_san_dns: `${'a.'.repeat(30_000)}example` }, 400, META],
      ['a 60 000 character tls_client_auth_subject_dn', { tls_client_auth_subject_dn: `CN=${'a'.repeat(60_000)}` }, 400, META],
      ['a 60 000 character scope of unknown words', md({ scope: 'nope '.repeat(12_000).trim() }), 400, META],
      ['a 60 000 character token_endpoint_auth_method', md({ token_endpoint_auth_method: 'a'.repeat(60_000) }), 400, META],
    ],
  ),
  // DN syntax and SAN forms
  ...post(
    ['MD-3', 'MD-4', 'MD-5', 'MD-6', 'MD-7'],
    [
      ['a DN in slash form', { tls_client_auth_subject_dn: '/CN=registrant/O=Hostile' }, 400, META],
      ['a DN with a trailing backslash', { tls_client_auth_subject_dn: 'CN=registrant\\' }, 400, META],
      ['a DN with an empty RDN', { tls_client_auth_subject_dn: 'CN=registrant,,O=Hostile' }, 400, META],
      ['a DN with no attribute type', { tls_client_auth_subject_dn: '=registrant' }, 400, META],
      ['a DN with bad hex', { tls_client_auth_subject_dn: 'CN=#zz' }, 400, META],
      ['a DN with an unknown attribute', { tls_client_auth_subject_dn: 'XX-UNKNOWN=registrant' }, 400, META],
      ['an IP SAN that is a name', { tls_client_auth_san_ip: 'registrant.hostile.example' }, 400, META],
      ['an IP SAN 256.1.1.1', { tls_client_auth_san_ip: '256.1.1.1' }, 400, META],
      ['an IP SAN 127.1', { tls_client_auth_san_ip: '127.1' }, 400, META],
      ['an IP SAN with a zone', { tls_client_auth_san_ip: 'fe80::1%eth0' }, 400, META],
      ['an IP SAN in hex', { tls_client_auth_san_ip: '0x7f.0.0.1' }, 400, META],
      ['a DNS SAN with a trailing dot', { tls_client_auth_san_dns: `${REGISTRANT_DNS}.` }, 400, META],
      ['a DNS SAN wildcard', { tls_client_auth_san_dns: '*.hostile.example' }, 400, META],
      ['an email SAN with two @', { tls_client_auth_san_email: 'a@b@hostile.example' }, 400, META],
      ['a URI SAN that is not a URI', { tls_client_auth_san_uri: 'not a uri' }, 400, META],
      ['a DNS SAN the certificate does not hold', { tls_client_auth_san_dns: 'someone-else.hostile.example' }, 400, META],
      ["the owner's DNS SAN (held by another client)", { tls_client_auth_san_dns: OWNER_DNS }, 400, META],
    ],
  ),
  // initial access tokens
  ...(
    [
      ['none', 401],
      ['garbled', 401],
      ['revoked', 401],
      ['expired', 401],
      ['used-up', 401],
      ['rat', 401],
      ['query', 401],
      ['basic', 401],
      ['in-body', 401],
    ] as const
  ).map(
    ([token, status]): RegistrationCase => ({
      id: next(),
      guards: ['SC-4'],
      title: `POST /register: initial access token ${token}`,
      expect: 'refuse',
      method: 'POST',
      path: '/register',
      token,
      body: md(),
      status,
      error: 'invalid_token',
    }),
  ),
  {
    id: next(),
    guards: ['MD-4'],
    title: 'POST /register: no client certificate',
    expect: 'refuse',
    method: 'POST',
    path: '/register',
    cert: 'none',
    body: md(),
    status: 400,
    error: META,
  },
  // software statements (no initial access token: the statement is the authority)
  ...(
    [
      ['not a JWT', 'not-a-jwt', 'invalid_software_statement'],
      ['three garbage segments', 'a.b.c', 'invalid_software_statement'],
      ['alg none', '{ss:none}', 'invalid_software_statement'],
      ['HS256 with the issuer name as the secret', '{ss:hs256}', 'invalid_software_statement'],
      ['signed with another key', '{ss:wrong-key}', 'invalid_software_statement'],
      ['a signature from another statement', '{ss:spliced}', 'invalid_software_statement'],
      ['expired', '{ss:expired}', 'invalid_software_statement'],
      ['from an untrusted issuer', '{ss:rogue}', 'unapproved_software_statement'],
      ['a 60 000 character statement', `eyJhbGciOiJFUzI1NiJ9.${'A'.repeat(60_000)}.AAAA`, 'invalid_software_statement'],
    ] as const
  ).map(
    ([title, software_statement, error]): RegistrationCase => ({
      id: next(),
      guards: ['J-1', 'J-2'],
      title: `POST /register: a software statement ${title}`,
      expect: 'refuse',
      method: 'POST',
      path: '/register',
      token: 'none',
      body: md({ software_statement }),
      status: 400,
      error,
    }),
  ),
  // wrong methods
  ...(['GET', 'PUT', 'DELETE', 'PATCH'] as const).map(
    (method): RegistrationCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `${method} /register`,
      expect: 'refuse',
      method,
      path: '/register',
      ...(method === 'PUT' || method === 'PATCH' ? { body: md() } : {}),
      status: 405,
      error: 'invalid_request',
    }),
  ),
  ...(['POST', 'PATCH'] as const).map(
    (method): RegistrationCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `${method} a registration client URI`,
      expect: 'refuse',
      method,
      path: '/register/{own}',
      body: { tls_client_auth_san_dns: OWNER_DNS },
      status: 405,
      error: 'invalid_request',
    }),
  ),
  // RFC 7592: another client's token, another certificate, ids that are not ids
  { id: next(), guards: ['SC-4'], title: 'GET own registration → 200', expect: 'accept', method: 'GET', path: '/register/{own}', status: 200 },
  ...(['GET', 'PUT', 'DELETE'] as const).flatMap((method): RegistrationCase[] => {
    const body = method === 'PUT' ? { tls_client_auth_san_dns: OWNER_DNS } : undefined;
    const base = { guards: ['SC-4', 'BT-6'], expect: 'refuse' as const, method, ...(body ? { body } : {}), status: 401, error: 'invalid_token' };
    return [
      { ...base, id: next(), title: `${method} the victim's registration with the owner's registration access token`, path: '/register/{other}', token: 'other-rat' },
      { ...base, id: next(), title: `${method} the victim's registration with its own token and the owner's certificate`, path: '/register/{other}', token: 'rat' },
      { ...base, id: next(), title: `${method} own registration with the victim's registration access token`, path: '/register/{own}', token: 'other-rat' },
      { ...base, id: next(), title: `${method} own registration with no client certificate`, path: '/register/{own}', cert: 'none' },
      { ...base, id: next(), title: `${method} own registration with no token`, path: '/register/{own}', token: 'none' },
      { ...base, id: next(), title: `${method} own registration with an initial access token`, path: '/register/{own}', token: 'iat-as-rat' },
      { ...base, id: next(), title: `${method} own registration with the token in the query`, path: '/register/{own}', token: 'query' },
      { ...base, id: next(), title: `${method} own registration with a garbled token`, path: '/register/{own}', token: 'garbled' },
      ...(
        [
          '/register/..%2F..%2Fadmin%2Fclients',
          '/register/%2e%2e%2fadmin',
          '/register/{own}%2F..%2F{other}',
          '/register/{own}%00',
          '/register/%E0%A4%A',
          '/register/nobody',
          '/register/{own}/extra',
          `/register/${'a'.repeat(5000)}`,
        ] as const
      ).map((path): RegistrationCase => ({ ...base, id: next(), title: `${method} ${path.slice(0, 60)}`, path })),
    ];
  }),
  ...post(
    ['MD-2'],
    [
      ['PUT own registration naming another client_id', { client_id: 'victim-id', tls_client_auth_san_dns: OWNER_DNS }, 400, META],
      ['PUT own registration with a SAN the certificate does not hold', { tls_client_auth_san_dns: REGISTRANT_DNS }, 400, META],
      ['PUT own registration with a scope beyond its token', { tls_client_auth_san_dns: OWNER_DNS, scope: 'read write' }, 400, META],
      ['PUT own registration with redirect_uris', { tls_client_auth_san_dns: OWNER_DNS, redirect_uris: ['https://x.example/'] }, 400, META],
      ['PUT own registration as none', { token_endpoint_auth_method: 'none' }, 400, META],
    ],
  ).map((c) => ({ ...c, title: c.title.replace('POST /register: ', ''), method: 'PUT', path: '/register/{own}' })),
  {
    id: next(),
    guards: ['SC-6'],
    title: 'PUT own registration: a body that is not JSON',
    expect: 'refuse',
    method: 'PUT',
    path: '/register/{own}',
    raw: { body: '{', contentType: 'application/json' },
    status: 400,
    error: META,
  },
  {
    id: next(),
    guards: ['X-10'],
    title: 'PUT own registration: a 70 KB body',
    expect: 'refuse',
    method: 'PUT',
    path: '/register/{own}',
    body: { tls_client_auth_san_dns: OWNER_DNS, client_uri: 'x'.repeat(70_000) },
    status: 413,
    error: META,
  },
  // accepts: the route works (last, so a registration made here overlaps no earlier case)
  { id: next(), guards: ['MD-4'], title: 'POST /register: valid metadata → 201', expect: 'accept', method: 'POST', path: '/register', body: md(), status: 201 },
];
