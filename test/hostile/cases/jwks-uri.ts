/**
 * jwks_uri targets at registration (H15-5): with no address range allowed, a URI on a loopback, private,
 * link-local, ULA, multicast or unspecified address (or a name for one) is refused with 400 before
 * anything is fetched; so are URIs that are not plain https.
 */
import type { HostileCase } from '../lib/corpus.js';

export interface JwksUriCase extends HostileCase {
  /** The URI; `{port}` is the loopback publisher's port (it serves a valid set and counts requests). */
  uri: string;
  /** Which registration member carries it. */
  via: 'self_signed_jwks_uri' | 'private_key_jwt_jwks_uri' | 'patch';
}

const targets: [string, string, boolean][] = [
  // [uri, what, depends on H15-5]
  ['https://127.0.0.1:{port}/jwks.json', 'loopback 127.0.0.1', true],
  ['https://localhost:{port}/jwks.json', 'the name localhost', true],
  ['https://127.1.2.3:{port}/jwks.json', 'loopback 127.1.2.3', true],
  ['https://[::1]:{port}/jwks.json', 'loopback ::1', true],
  ['https://[::ffff:127.0.0.1]:{port}/jwks.json', 'IPv4-mapped loopback', true],
  ['https://2130706433:{port}/jwks.json', 'loopback as one decimal number', true],
  ['https://0x7f.0.0.1:{port}/jwks.json', 'loopback in hex', true],
  ['https://0177.0.0.1:{port}/jwks.json', 'loopback in octal', true],
  ['https://localhost:{port}/redirect', 'a loopback URI that redirects to the metadata address', true],
  ['https://10.0.0.1/jwks.json', 'private 10/8', true],
  ['https://172.16.0.1/jwks.json', 'private 172.16/12', true],
  ['https://192.168.1.1/jwks.json', 'private 192.168/16', true],
  ['https://169.254.169.254/latest/meta-data/', 'link-local metadata address', true],
  ['https://[fe80::1]/jwks.json', 'IPv6 link-local', true],
  ['https://[fd00:ec2::254]/jwks.json', 'IPv6 ULA (metadata)', true],
  ['https://224.0.0.1/jwks.json', 'IPv4 multicast', true],
  ['https://[ff02::1]/jwks.json', 'IPv6 multicast', true],
  ['https://0.0.0.0/jwks.json', 'unspecified 0.0.0.0', true],
  ['https://[::]/jwks.json', 'unspecified ::', true],
  ['http://127.0.0.1:{port}/jwks.json', 'plain http', false],
  ['https://user:secret@127.0.0.1:{port}/jwks.json', 'credentials in the URI', true],
  ['file:///etc/passwd', 'a file URI', false],
  ['ftp://127.0.0.1/jwks.json', 'an ftp URI', false],
  ['data:application/json,{"keys":[]}', 'a data URI', false],
  [`https://127.0.0.1:{port}/${'a'.repeat(3000)}`, 'a 3000-character URI', false],
];

const vias = ['self_signed_jwks_uri', 'private_key_jwt_jwks_uri', 'patch'] as const;
let n = 0;
export const jwksUriCases: JwksUriCase[] = targets.flatMap(([uri, what, pending], i) =>
  // every target through self_signed_jwks_uri; the address families also through the two other members
  (i < 19 && i % 3 === 0 ? vias : (['self_signed_jwks_uri'] as const)).map(
    (via): JwksUriCase => ({
      id: `JWKS-${String(++n).padStart(2, '0')}`,
      guards: ['H15-5', 'SS-4'],
      ...(pending ? { finding: 'H15-5' as const } : {}),
      title: `${what} (${via === 'patch' ? 'PATCH jwks_uri' : via})`,
      expect: 'refuse',
      uri,
      via,
    }),
  ),
);
