/**
 * Admin API requests (src/admin-api) from an administrator over real mTLS: malformed JSON, wrong types,
 * huge values, unknown members, DN/SAN injection, path traversal in ids, and callers without the right.
 * Every refusal is a 4xx with a coded error and leaves the stored state as it was.
 */
import type { HostileCase } from '../lib/corpus.js';

export interface AdminCase extends HostileCase {
  method: string;
  path: string;
  /** JSON body (serialized), or a raw body with its content type. */
  body?: unknown;
  raw?: { body: string; contentType: string };
  /** Who calls: the full administrator (default), the read-only one, or with no token. */
  caller?: 'admin' | 'reader' | 'anonymous' | 'api-token' | 'wrong-cert';
}

const A = (id: number) => `ADMIN-${String(id).padStart(3, '0')}`;
const client = (extra: Record<string, unknown>) => ({ client_id: 'hostile-new', mapping: { kind: 'subject_dn', value: 'CN=hostile-new,O=Hostile' }, scope: 'read', ...extra });
const mapping = (kind: string, value: string) => client({ mapping: { kind, value } });
let n = 0;
const next = () => A(++n);

export const adminCases: AdminCase[] = [
  // accepts: the caller and the routes work
  { id: next(), guards: ['SC-4'], title: 'GET /admin/clients → 200', expect: 'accept', method: 'GET', path: '/admin/clients' },
  { id: next(), guards: ['MD-1'], title: 'a valid client → 201', expect: 'accept', method: 'POST', path: '/admin/clients', body: client({ client_id: 'hostile-ok' }) },
  // malformed JSON
  ...(
    [
      '{',
      '{"client_id": }',
      '{"client_id":"a",}',
      '[]',
      'null',
      '"client"',
      '123',
      '',
      '\uFEFF{"client_id":"x"}',
      '{"client_id":"a"}garbage',
      'NaN',
      '{"a":' + '['.repeat(5000),
    ] as const
  ).map(
    (body): AdminCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `malformed JSON body ${JSON.stringify(body.slice(0, 24))}`,
      expect: 'refuse',
      method: 'POST',
      path: '/admin/clients',
      raw: { body, contentType: 'application/json' },
    }),
  ),
  // wrong types
  ...(
    [
      ['client_id a number', client({ client_id: 42 })],
      ['scope an array', client({ scope: ['read'] })],
      ['bound_tokens the string "true"', client({ bound_tokens: 'true' })],
      ['mapping a string', client({ mapping: 'CN=x' })],
      ['mapping.kind unknown', mapping('san_ldap', 'x')],
      ['mapping.not_after not a date', client({ mapping: { kind: 'subject_dn', value: 'CN=x', not_after: 'tomorrow' } })],
      ['mapping.allow_overlap a number', client({ mapping: { kind: 'subject_dn', value: 'CN=x', allow_overlap: 1 } })],
      ['default_resource null', client({ default_resource: null })],
      ['private_key_jwt_jwks with no keys', { client_id: 'hostile-new', private_key_jwt_jwks: { keys: [] } }],
      ['private_key_jwt_jwks a string', { client_id: 'hostile-new', private_key_jwt_jwks: '{"keys":[]}' }],
      ['two registration kinds (mapping and self_signed_certificate)', client({ self_signed_certificate: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n' })],
      ['no registration kind', { client_id: 'hostile-new', scope: 'read' }],
    ] as const
  ).map(([what, body]): AdminCase => ({ id: next(), guards: ['MD-2'], title: `POST /admin/clients: ${what}`, expect: 'refuse', method: 'POST', path: '/admin/clients', body })),
  ...(
    [
      ['ttl a string', { identifier: 'https://rs1.hostile.example', scope: 'a', ttl: '600' }],
      ['ttl negative', { identifier: 'https://rs2.hostile.example', scope: 'a', ttl: -1 }],
      ['ttl 1e9', { identifier: 'https://rs3.hostile.example', scope: 'a', ttl: 1e9 }],
      ['ttl fractional', { identifier: 'https://rs4.hostile.example', scope: 'a', ttl: 60.5 }],
      ['token_format xml', { identifier: 'https://rs5.hostile.example', scope: 'a', token_format: 'xml' }],
      ['identifier http://', { identifier: 'http://rs6.hostile.example', scope: 'a' }],
      ['identifier with a fragment', { identifier: 'https://rs7.hostile.example#x', scope: 'a' }],
      ['identifier relative', { identifier: '../admin', scope: 'a' }],
      ['scope with a quote', { identifier: 'https://rs8.hostile.example', scope: 'a"b' }],
      ['scope with a backslash', { identifier: 'https://rs9.hostile.example', scope: 'a\\b' }],
      ['scope with two spaces', { identifier: 'https://rs10.hostile.example', scope: 'a  b' }],
      ['scope empty', { identifier: 'https://rs11.hostile.example', scope: '' }],
      ['an unknown member', { identifier: 'https://rs12.hostile.example', scope: 'a', owner: 'evil' }],
    ] as const
  ).map(
    ([what, body]): AdminCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `POST /admin/resource-servers: ${what}`,
      expect: 'refuse',
      method: 'POST',
      path: '/admin/resource-servers',
      body,
    }),
  ),
  // huge values
  {
    id: next(),
    guards: ['X-10'],
    title: 'a 10 000 character client_id',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    body: client({ client_id: 'a'.repeat(10_000) }),
  },
  { id: next(), guards: ['X-10'], title: 'a 100 KB scope', expect: 'refuse', method: 'POST', path: '/admin/clients', body: client({ scope: 'a '.repeat(50_000).trim() }) },
  {
    id: next(),
    guards: ['X-10'],
    title: 'a 100 KB mapping value',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    body: mapping('subject_dn', `CN=${'a'.repeat(100_000)}`),
  },
  {
    id: next(),
    guards: ['X-10'],
    title: 'a 1 MB PEM trust anchor',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/trust-anchors',
    body: { name: 'huge', pem: `-----BEGIN CERTIFICATE-----\n${'A'.repeat(1_000_000)}\n-----END CERTIFICATE-----\n` },
  },
  {
    id: next(),
    guards: ['X-10'],
    title: 'a 5 MB body',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    raw: { body: JSON.stringify(client({ pad: 'x'.repeat(5_000_000) })), contentType: 'application/json' },
  },
  {
    id: next(),
    guards: ['X-10'],
    title: 'eleven keys in a JWKS',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    body: { client_id: 'hostile-new', private_key_jwt_jwks: { keys: Array.from({ length: 11 }, (_, i) => ({ kty: 'EC', kid: String(i) })) } },
  },
  // unknown members and prototype pollution
  { id: next(), guards: ['SC-6'], title: 'an unknown top-level member (admin: true)', expect: 'refuse', method: 'POST', path: '/admin/clients', body: client({ admin: true }) },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'an unknown member inside mapping',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    body: client({ mapping: { kind: 'subject_dn', value: 'CN=x', trusted: true } }),
  },
  {
    id: next(),
    guards: ['SC-6'],
    title: '__proto__ member',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    raw: { body: '{"client_id":"hostile-new","mapping":{"kind":"subject_dn","value":"CN=hostile-new"},"__proto__":{"scope":"certbound:admin"}}', contentType: 'application/json' },
  },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'constructor.prototype member',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    body: client({ constructor: { prototype: { isAdmin: true } } }),
  },
  { id: next(), guards: ['SC-6'], title: 'PATCH with an empty object', expect: 'refuse', method: 'PATCH', path: '/admin/clients/hostile-ok', body: {} },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'PATCH with an unknown member (token_endpoint_auth_method)',
    expect: 'refuse',
    method: 'PATCH',
    path: '/admin/clients/hostile-ok',
    body: { token_endpoint_auth_method: 'none' },
  },
  // DN and SAN injection
  ...(
    [
      ['subject_dn', 'CN=x,O=Acme\nCN=admin', 'X-1'],
      ['subject_dn', 'CN=x\u0000,O=Acme', 'X-1'],
      ['subject_dn', '/CN=a,b/O=Acme', 'X-4'],
      ['subject_dn', 'CN=a\\', 'X-4'],
      ['subject_dn', '=x', 'MD-3'],
      ['subject_dn', 'CN=#zz', 'MD-3'],
      ['subject_dn', 'CN=x,,O=y', 'MD-3'],
      ['subject_dn', 'XX-UNKNOWN=x', 'X-6'],
      ['san_dns', 'a.example.com\r\nX-Injected: 1', 'X-1'],
      ['san_dns', 'a..example.com', 'MD-4'],
      ['san_dns', 'a.example.com.', 'MD-4'],
      ['san_dns', 'bücher.example', 'MD-4'],
      ['san_dns', 'a.example.com\u0000.evil.net', 'X-1'],
      ['san_ip', '127.1', 'MD-6'],
      ['san_ip', 'fe80::1%eth0', 'MD-6'],
      ['san_ip', '192.000.002.001', 'MD-6'],
      ['san_ip', '0x7f.0.0.1', 'MD-6'],
      ['san_ip', '256.1.1.1', 'MD-6'],
      ['san_email', 'a@b@c.example', 'MD-7'],
      ['san_email', 'ops@example.com\u0000', 'X-1'],
      ['san_uri', 'spiffe://a/b\u0000', 'X-1'],
      ['san_uri', 'not a uri', 'MD-5'],
    ] as const
  ).map(
    ([kind, value, id]): AdminCase => ({
      id: next(),
      guards: [id],
      title: `mapping ${kind} ${JSON.stringify(value).slice(0, 40)}`,
      expect: 'refuse',
      method: 'POST',
      path: '/admin/clients',
      body: mapping(kind, value),
    }),
  ),
  // path traversal and odd ids
  ...(
    [
      ['GET', '/admin/clients/..%2F..%2Fetc%2Fpasswd'],
      ['GET', '/admin/clients/%2e%2e'],
      ['DELETE', '/admin/clients/..%2Fhostile-ok'],
      ['DELETE', '/admin/clients/hostile-ok%00'],
      ['DELETE', '/admin/clients/%25'],
      ['GET', '/admin/trust-anchors/..%2F..%2Ftest-root'],
      ['DELETE', '/admin/trust-anchors/test-root%2F..%2Fother'],
      ['GET', '/admin/resource-servers/https%3A%2F%2Fapi.hostile.example%2F..%2F..'],
      ['DELETE', '/admin/resource-servers/..%2F..%2Fadmin'],
      ['POST', '/admin/keys/..%2F..%2Fretire'],
      ['POST', '/admin/keys/%2e%2e%2fx/retire'],
      ['DELETE', '/admin/clients/hostile-ok/mappings/..%2F..'],
      ['DELETE', '/admin/clients/hostile-ok/mappings/1%20OR%201%3D1'],
      ['GET', "/admin/clients/x'%20OR%20'1'%3D'1"],
      ['GET', '/admin/clients/hostile-ok?client_id=admin-1'],
      ['GET', '/admin/audit?limit=0'],
      ['GET', '/admin/audit?limit=99999'],
      ['GET', '/admin/audit?limit=1e3'],
      ['GET', '/admin/audit?target=client:%25'],
      ['GET', '/admin/audit?limit=10&limit=20'],
    ] as const
  ).map(
    ([method, path]): AdminCase => ({
      id: next(),
      guards: ['SC-6'],
      title: `${method} ${path}`,
      expect: path.startsWith('/admin/audit?target') ? 'accept' : 'refuse',
      method,
      path,
      ...(method === 'POST' ? { body: {} } : {}),
    }),
  ),
  // content types and methods
  {
    id: next(),
    guards: ['SC-6'],
    title: 'JSON labelled text/plain',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    raw: { body: JSON.stringify(client({ client_id: 'hostile-ct' })), contentType: 'text/plain' },
  },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'a form body',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/clients',
    raw: { body: 'client_id=hostile-form&scope=read', contentType: 'application/x-www-form-urlencoded' },
  },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'PUT /admin/clients (no such route)',
    expect: 'refuse',
    method: 'PUT',
    path: '/admin/clients',
    body: client({ client_id: 'hostile-put' }),
  },
  // the admin resource and keys
  { id: next(), guards: ['SC-6'], title: 'DELETE the admin resource', expect: 'refuse', method: 'DELETE', path: '/admin/resource-servers/{admin}' },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'PUT the admin resource without its scopes',
    expect: 'refuse',
    method: 'PUT',
    path: '/admin/resource-servers/{admin}',
    body: { scope: 'x' },
  },
  { id: next(), guards: ['J-2'], title: 'rotate to HS256', expect: 'refuse', method: 'POST', path: '/admin/keys/rotate', body: { alg: 'HS256' } },
  { id: next(), guards: ['J-1'], title: 'rotate to none', expect: 'refuse', method: 'POST', path: '/admin/keys/rotate', body: { alg: 'none' } },
  {
    id: next(),
    guards: ['PKI-1'],
    title: 'a leaf certificate as a trust anchor',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/trust-anchors',
    body: { name: 'leaf-anchor', pem: '{leaf}' },
  },
  {
    id: next(),
    guards: ['PKI-1'],
    title: 'two certificates as one trust anchor',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/trust-anchors',
    body: { name: 'two-anchors', pem: '{two}' },
  },
  { id: next(), guards: ['PKI-1'], title: 'a trust anchor name with a slash', expect: 'refuse', method: 'POST', path: '/admin/trust-anchors', body: { name: 'a/b', pem: '{ca}' } },
  {
    id: next(),
    guards: ['SC-6'],
    title: 'diagnose garbage',
    expect: 'refuse',
    method: 'POST',
    path: '/admin/diagnose',
    body: { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' },
  },
  // callers without the right
  { id: next(), guards: ['SC-4'], title: 'no token', expect: 'refuse', caller: 'anonymous', method: 'GET', path: '/admin/clients' },
  { id: next(), guards: ['H15-1', 'SC-4'], title: 'a token for another resource server', expect: 'refuse', caller: 'api-token', method: 'GET', path: '/admin/clients' },
  { id: next(), guards: ['BT-6'], title: "the administrator's token with another certificate", expect: 'refuse', caller: 'wrong-cert', method: 'GET', path: '/admin/clients' },
  {
    id: next(),
    guards: ['SC-4'],
    title: 'the read-only administrator writes',
    expect: 'refuse',
    caller: 'reader',
    method: 'POST',
    path: '/admin/clients',
    body: client({ client_id: 'hostile-reader' }),
  },
  { id: next(), guards: ['SC-4'], title: 'the read-only administrator rotates keys', expect: 'refuse', caller: 'reader', method: 'POST', path: '/admin/keys/rotate', body: {} },
  { id: next(), guards: ['SC-4'], title: 'the read-only administrator reads → 200', expect: 'accept', caller: 'reader', method: 'GET', path: '/admin/clients' },
];
