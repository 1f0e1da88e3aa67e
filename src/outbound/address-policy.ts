/**
 * Which addresses certbound may connect to when it fetches a client's jwks_uri. The URI is chosen by
 * whoever registers the client, so without a check the server would fetch from its own loopback
 * listeners, the cloud metadata service (169.254.169.254) or the private network on their behalf (SSRF).
 *
 * Refused: loopback, private (RFC 1918), shared (CGNAT 100.64/10), link-local, unique-local, site-local,
 * multicast, broadcast, unspecified, documentation, benchmarking and other reserved ranges, IPv6 outside
 * global unicast (2000::/3), and IPv6 forms that embed a refused IPv4 address (IPv4-mapped ::ffff:0:0/96,
 * NAT64 64:ff9b::/96, 6to4 2002::/16). Ranges named in CERTBOUND_JWKS_URI_ALLOWED_RANGES are allowed
 * anyway (development, tests, a JWKS host on the internal network on purpose).
 *
 * The name is resolved once per connection, every address is checked, and the socket is given only the
 * checked addresses (`createGuardedLookup`): a name that resolves to a public address for a check and to
 * a private one for the connection (DNS rebinding) cannot get past it. TLS still verifies the server
 * certificate against the host name (SNI is the name, not the address).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { createProxyTrust } from '../forwarded/proxy-trust.js';

/** The setting that allows ranges that are refused otherwise. */
export const ALLOWED_RANGES_SETTING = 'CERTBOUND_JWKS_URI_ALLOWED_RANGES';

interface Range {
  list: BlockList;
  kind: string;
}

function ranges(family: 'ipv4' | 'ipv6', rows: readonly (readonly [string, number, string])[]): Range[] {
  return rows.map(([network, prefix, kind]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { list, kind };
  });
}

/** IANA IPv4 special-purpose registry, the ranges that are not reachable public unicast. First match names the kind. */
const V4_REFUSED = ranges('ipv4', [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
]);

/** Named IPv6 ranges; anything else outside global unicast (2000::/3) is refused as reserved. */
const V6_REFUSED = ranges('ipv6', [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
  ['64:ff9b:1::', 48, 'private (local-use NAT64)'],
]);
const [MAPPED, NAT64, SIX_TO_FOUR, GLOBAL_UNICAST] = ranges('ipv6', [
  ['::ffff:0:0', 96, ''],
  ['64:ff9b::', 96, ''],
  ['2002::', 16, ''],
  ['2000::', 3, ''],
]).map((r) => r.list) as [BlockList, BlockList, BlockList, BlockList];

/** The eight 16-bit groups of a valid IPv6 address (without zone), a trailing dotted quad included. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - front.length - back.length).fill('0');
  return [...front, ...middle, ...back].map((g) => Number.parseInt(g, 16));
}

const ipv4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** Why an IPv4 address is not public, or undefined when it is. */
function ipv4Kind(address: string): string | undefined {
  return V4_REFUSED.find((r) => r.list.check(address, 'ipv4'))?.kind;
}

export interface OutboundAddressPolicy {
  /** Why certbound does not connect to `address` (a kind such as "loopback"), or undefined when it may. */
  refusedKind(address: string): string | undefined;
  /** The allowed ranges, as configured. */
  readonly allowedRanges: readonly string[];
}

/**
 * The address check, with `allowedRanges` (CIDR, as validated by config/) taken out of the refused ones.
 *
 * @example
 * const policy = createOutboundAddressPolicy(['127.0.0.0/8']);
 * policy.refusedKind('127.0.0.1'); // undefined
 * policy.refusedKind('169.254.169.254'); // 'link-local'
 */
export function createOutboundAddressPolicy(allowedRanges: readonly string[] = []): OutboundAddressPolicy {
  const allowed = createProxyTrust(allowedRanges, ALLOWED_RANGES_SETTING);
  const refusedKind = (address: string): string | undefined => {
    if (isIPv4(address)) return allowed.isTrusted(address) ? undefined : ipv4Kind(address);
    // A zone (fe80::1%eth0) only exists on link-local and other scoped addresses.
    if (!isIPv6(address) || address.includes('%')) return 'scoped or malformed';
    const groups = ipv6Groups(address);
    // The socket connects to the IPv4 address itself: the IPv4 rules, allowed ranges included, decide.
    if (MAPPED.check(address, 'ipv6')) return refusedKind(ipv4Of(groups[6]!, groups[7]!));
    if (allowed.isTrusted(address)) return undefined;
    const named = V6_REFUSED.find((r) => r.list.check(address, 'ipv6'))?.kind;
    if (named) return named;
    // Translated to the embedded IPv4 address by a NAT64 gateway or a 6to4 relay.
    if (NAT64.check(address, 'ipv6')) {
      const kind = ipv4Kind(ipv4Of(groups[6]!, groups[7]!));
      return kind && `NAT64 of a ${kind}`;
    }
    if (SIX_TO_FOUR.check(address, 'ipv6')) {
      const kind = ipv4Kind(ipv4Of(groups[1]!, groups[2]!));
      return kind && `6to4 of a ${kind}`;
    }
    return GLOBAL_UNICAST.check(address, 'ipv6') ? undefined : 'reserved';
  };
  return Object.freeze({ refusedKind, allowedRanges: Object.freeze([...allowedRanges]) });
}

/** A connection refused before it was made: `host` is, or resolves to, an address of a refused kind. */
export class RefusedAddressError extends Error {
  readonly code = 'ERR_JWKS_URI_ADDRESS_REFUSED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: string,
  ) {
    const article = /^(?:[aeio]|un(?!i))/i.test(kind) ? 'an' : 'a';
    super(
      `${host === address ? `${address} is` : `${host} resolves to`} ${article} ${kind} address${host === address ? '' : ` (${address})`}; certbound fetches only public addresses unless the range is allowed by ${ALLOWED_RANGES_SETTING}`,
    );
    this.name = 'RefusedAddressError';
  }
}

/** Checks an address host (an IP literal in the URL, which no lookup sees): the refusal, or undefined. */
export function refuseLiteral(policy: OutboundAddressPolicy, host: string): RefusedAddressError | undefined {
  if (!isIP(host)) return undefined;
  const kind = policy.refusedKind(host);
  return kind ? new RefusedAddressError(host, host, kind) : undefined;
}

/** Resolves a name to all its addresses (the system resolver, as a socket would by default). */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * A `lookup` for `net.connect`/`tls.connect`: resolves the name once, refuses the connection when any
 * address is refused (a name that also points inside is not used at all), and hands the socket only the
 * addresses it checked.
 */
export function createGuardedLookup(policy: OutboundAddressPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        for (const { address } of found) {
          const kind = policy.refusedKind(address);
          if (kind) return callback(new RefusedAddressError(hostname, address, kind) as NodeJS.ErrnoException, '', 0);
        }
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = found.filter((a) => family === undefined || a.family === family).map((a) => ({ address: a.address, family: a.family }));
        if (!usable.length) {
          return callback(Object.assign(new Error(`${hostname} has no ${family ? `IPv${family} ` : ''}address`), { code: 'ENOTFOUND', hostname }), '', 0);
        }
        if (options.all) return (callback as unknown as (err: null, addresses: typeof usable) => void)(null, usable);
        return callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
