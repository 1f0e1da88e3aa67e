import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Decides whether a TCP peer is one of the reverse proxies allowed to forward client certificates. */
export interface ProxyTrust {
  /** True when `remoteAddress` (from `req.socket.remoteAddress`, never `X-Forwarded-For`) is trusted. */
  isTrusted(remoteAddress: string | undefined): boolean;
  /** The entries the trust was built from, for logs. */
  readonly entries: readonly string[];
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * IPv4 rules and IPv6 rules are kept in two lists, and an IPv4 peer is checked against the IPv4 rules
 * only: node:net's BlockList checks an IPv4 address against IPv6 rules as `::ffff:a.b.c.d`, so an IPv6
 * range such as `::/0` would otherwise trust every IPv4 client.
 */
interface Lists {
  v4: BlockList;
  v6: BlockList;
}

function addEntry(lists: Lists, entry: string, setting: string): void {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? undefined : entry.slice(slash + 1);
  const mapped = MAPPED_V4.exec(address)?.[1];
  const type = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (!type) throw new TypeError(`${setting}: "${entry}" is not an IPv4/IPv6 address or CIDR`);
  if (prefixText === undefined) {
    // An IPv4-mapped entry (::ffff:a.b.c.d) is the IPv4 address: a dual-stack listener reports IPv4 peers that way.
    if (mapped) lists.v4.addAddress(mapped, 'ipv4');
    else lists[type === 'ipv4' ? 'v4' : 'v6'].addAddress(address, type);
    return;
  }
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= (type === 'ipv4' ? 32 : 128))) {
    throw new TypeError(`${setting}: "${entry}" has an invalid prefix length`);
  }
  if (mapped) {
    if (prefix < 96) throw new TypeError(`${setting}: "${entry}" is an IPv4-mapped range shorter than /96; write the IPv4 range instead (e.g. 10.0.0.0/8)`);
    lists.v4.addSubnet(mapped, prefix - 96, 'ipv4');
    return;
  }
  lists[type === 'ipv4' ? 'v4' : 'v6'].addSubnet(address, prefix, type);
}

/**
 * Builds the trusted-proxy check from addresses and CIDR ranges (IPv4 and IPv6). An IPv4-mapped IPv6
 * peer (`::ffff:127.0.0.2`, what a dual-stack listener reports) matches the IPv4 rules, and only them:
 * an IPv6 range never trusts an IPv4 peer. Invalid entries are a configuration mistake and throw
 * `TypeError` whose message starts with `setting`, the name of the setting the entries came from.
 * Other address allow-lists (CERTBOUND_JWKS_URI_ALLOWED_RANGES) use the same rules.
 *
 * @example
 * const trust = createProxyTrust(['10.0.0.0/8', '::1/128', '127.0.0.2']);
 * trust.isTrusted(req.socket.remoteAddress); // true for '10.1.2.3', '::ffff:127.0.0.2', '::1'
 */
export function createProxyTrust(entries: readonly string[], setting = 'trustedProxies'): ProxyTrust {
  if (!Array.isArray(entries)) throw new TypeError(`${setting} must be an array of addresses or CIDR ranges`);
  const lists: Lists = { v4: new BlockList(), v6: new BlockList() };
  for (const entry of entries) {
    if (typeof entry !== 'string') throw new TypeError(`${setting} entries must be strings`);
    addEntry(lists, entry.trim(), setting);
  }
  const frozen = Object.freeze([...entries]);
  return Object.freeze({
    entries: frozen,
    isTrusted(remoteAddress: string | undefined): boolean {
      if (typeof remoteAddress !== 'string') return false;
      if (isIPv4(remoteAddress)) return lists.v4.check(remoteAddress, 'ipv4');
      const mapped = MAPPED_V4.exec(remoteAddress)?.[1];
      if (mapped) return isIPv4(mapped) && lists.v4.check(mapped, 'ipv4');
      // Zone-scoped addresses (fe80::1%eth0) are never trusted.
      if (isIPv6(remoteAddress) && !remoteAddress.includes('%')) return lists.v6.check(remoteAddress, 'ipv6');
      return false;
    },
  });
}
