/**
 * H15-5 (SS-4): the addresses a jwks_uri fetch may connect to. The policy is pure; the guarded lookup
 * is tested with an injected resolver; the rebinding test makes real HTTPS connections, to loopback only
 * (127.0.0.2 allowed, 127.0.0.1 refused), and shows that the socket goes only to an address that was checked.
 */
import { createServer, type Server } from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJwksUriCache, fetchJwksUriOnce } from '../../src/outbound/jwks-uri-cache.js';
import { createGuardedLookup, createOutboundAddressPolicy, RefusedAddressError, type Resolver } from '../../src/outbound/address-policy.js';
import { createTestPki, EKU_SERVER_AUTH, type TestPki } from '../helpers/pki.js';

describe('H15-5 outbound address policy', () => {
  const policy = createOutboundAddressPolicy();

  it('H15-5: refuses loopback, private, CGNAT, link-local, unique-local, multicast, broadcast, unspecified, documentation and reserved addresses (IPv4, IPv6)', () => {
    const refused: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback'],
      ['10.0.0.5', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.10', 'private'],
      ['100.64.0.1', 'shared (carrier-grade NAT)'],
      ['100.127.255.255', 'shared (carrier-grade NAT)'],
      ['169.254.169.254', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['198.51.100.7', 'documentation'],
      ['203.0.113.9', 'documentation'],
      ['198.18.0.1', 'reserved (benchmarking)'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456:789a::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'scoped or malformed'],
      ['fec0::1', 'site-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['100::1', 'reserved'],
      ['::7f00:1', 'reserved'],
    ];
    expect(refused.map(([address]) => [address, policy.refusedKind(address)])).toEqual(refused);
  });

  it('H15-5: IPv6 forms that embed a refused IPv4 address are refused as that address (IPv4-mapped, NAT64, 6to4)', () => {
    expect(policy.refusedKind('::ffff:127.0.0.1')).toBe('loopback');
    expect(policy.refusedKind('::ffff:7f00:1')).toBe('loopback');
    expect(policy.refusedKind('::ffff:a9fe:a9fe')).toBe('link-local');
    expect(policy.refusedKind('::ffff:10.1.2.3')).toBe('private');
    expect(policy.refusedKind('64:ff9b::a9fe:a9fe')).toBe('NAT64 of a link-local');
    expect(policy.refusedKind('64:ff9b::10.0.0.1')).toBe('NAT64 of a private');
    expect(policy.refusedKind('64:ff9b:1::1')).toBe('private (local-use NAT64)');
    expect(policy.refusedKind('2002:7f00:1::1')).toBe('6to4 of a loopback');
    expect(policy.refusedKind('2002:c0a8:101::1')).toBe('6to4 of a private');
  });

  it('H15-5: public addresses pass, including NAT64/6to4/mapped forms of public IPv4 addresses', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700:4700::1111',
      '2a00:1450::1',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ]) {
      expect([address, policy.refusedKind(address)]).toEqual([address, undefined]);
    }
  });

  it('H15-5: CERTBOUND_JWKS_URI_ALLOWED_RANGES takes chosen ranges out of the refused ones, and only those', () => {
    const allowing = createOutboundAddressPolicy(['127.0.0.0/8', 'fd00:1::/64', '10.1.0.0/16']);
    expect(allowing.refusedKind('127.0.0.1')).toBeUndefined();
    // an IPv4-mapped address is the IPv4 address: the IPv4 range allows it
    expect(allowing.refusedKind('::ffff:7f00:1')).toBeUndefined();
    expect(allowing.refusedKind('fd00:1::5')).toBeUndefined();
    expect(allowing.refusedKind('10.1.2.3')).toBeUndefined();
    expect(allowing.refusedKind('10.2.0.1')).toBe('private');
    expect(allowing.refusedKind('::1')).toBe('loopback');
    expect(allowing.refusedKind('fd00:2::5')).toBe('unique-local');
    expect(allowing.refusedKind('169.254.169.254')).toBe('link-local');
    expect(() => createOutboundAddressPolicy(['10.0.0.0/33'])).toThrow('CERTBOUND_JWKS_URI_ALLOWED_RANGES: "10.0.0.0/33" has an invalid prefix length');
  });
});

/** Calls a lookup function as a socket does, and gives its result. */
function lookupWith(lookup: ReturnType<typeof createGuardedLookup>, hostname: string, options: { all?: boolean; family?: number }) {
  return new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) => {
    lookup(
      hostname,
      options as never,
      ((err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) =>
        resolve({ err, result: Array.isArray(address) ? address : err ? undefined : { address, family } })) as never,
    );
  });
}

describe('H15-5 guarded lookup: resolve once, check every address, hand over only checked ones', () => {
  const policy = createOutboundAddressPolicy(['127.0.0.2/32']);

  it('H15-5: a name with any refused address is refused as a whole, naming the name, the kind and the address', async () => {
    const resolve: Resolver = async () => [
      { address: '127.0.0.2', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ];
    const { err } = await lookupWith(createGuardedLookup(policy, resolve), 'jwks.test', { all: true });
    expect(err).toBeInstanceOf(RefusedAddressError);
    expect(err?.message).toBe(
      'jwks.test resolves to a private address (10.0.0.5); certbound fetches only public addresses unless the range is allowed by CERTBOUND_JWKS_URI_ALLOWED_RANGES',
    );
  });

  it('H15-5: the socket gets exactly the addresses the check saw (all, or the first of the asked family)', async () => {
    const resolve: Resolver = async () => [
      { address: '2606:4700:4700::1111', family: 6 },
      { address: '127.0.0.2', family: 4 },
    ];
    const lookup = createGuardedLookup(policy, resolve);
    expect((await lookupWith(lookup, 'jwks.test', { all: true })).result).toEqual([
      { address: '2606:4700:4700::1111', family: 6 },
      { address: '127.0.0.2', family: 4 },
    ]);
    expect((await lookupWith(lookup, 'jwks.test', { family: 4 })).result).toEqual({ address: '127.0.0.2', family: 4 });
    const none = await lookupWith(
      createGuardedLookup(policy, async () => [{ address: '127.0.0.2', family: 4 }]),
      'jwks.test',
      { family: 6 },
    );
    expect(none.err).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('H15-5 jwks_uri fetches connect only to checked addresses (real HTTPS on loopback)', () => {
  let pki: TestPki;
  let allowedHost: Server;
  let refusedHost: Server;
  let port: number;
  const seen = { allowed: 0, refused: 0 };
  const body = JSON.stringify({ keys: [] });

  beforeAll(async () => {
    pki = await createTestPki();
    // The certificate names jwks.test only: TLS verifies the name of the URI, whatever address it resolved to.
    const cert = await pki.client({ subject: [{ CN: ['jwks.test'] }], san: [{ type: 'dns', value: 'jwks.test' }], eku: [EKU_SERVER_AUTH] });
    const serve = (which: keyof typeof seen) =>
      createServer({ cert: cert.pem + pki.intermediate.pem, key: cert.keyPem }, (_req, res) => {
        // One request per connection: every fetch below opens a new one, and so resolves the name again.
        res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(body);
      }).on('connection', () => seen[which]++);
    allowedHost = serve('allowed');
    await new Promise<void>((resolve) => allowedHost.listen(0, '127.0.0.2', resolve));
    port = (allowedHost.address() as AddressInfo).port;
    refusedHost = serve('refused');
    await new Promise<void>((resolve, reject) => refusedHost.once('error', reject).listen(port, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await Promise.all([allowedHost, refusedHost].map((srv) => new Promise((resolve) => (srv ? srv.close(resolve) : resolve(undefined)))));
  });
  afterEach(() => vi.restoreAllMocks());

  it('H15-5 DNS rebinding: a name that resolves to an allowed address, then to a refused one, is fetched from the first and never connected to at the second', async () => {
    const answers = ['127.0.0.2', '127.0.0.1'];
    const asked: string[] = [];
    const resolve: Resolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: answers[Math.min(asked.length - 1, answers.length - 1)]!, family: 4 }];
    };
    const failures: { reason: string; error: unknown }[] = [];
    const cache = createJwksUriCache({
      ca: pki.root.pem,
      minRefreshMs: 0,
      maxAgeMs: 0,
      allowedRanges: ['127.0.0.2/32'],
      resolve,
      validate: (text) => JSON.parse(text),
      onFailure: (f) => failures.push(f),
    });
    const uri = `https://jwks.test:${port}/jwks.json`;
    try {
      await cache.ensure('device', uri, undefined);
      expect(cache.peek('device', uri)).toMatchObject({ jwks: { keys: [] }, error: undefined });
      expect(seen).toEqual({ allowed: 1, refused: 0 });

      await cache.ensure('device', uri, undefined);
      const state = cache.peek('device', uri);
      expect(state.error).toBe(
        'jwks.test resolves to a loopback address (127.0.0.1); certbound fetches only public addresses unless the range is allowed by CERTBOUND_JWKS_URI_ALLOWED_RANGES',
      );
      // the last good set is kept; nothing reached 127.0.0.1; one resolution per connection
      expect(state.jwks).toEqual({ keys: [] });
      expect(seen).toEqual({ allowed: 1, refused: 0 });
      expect(asked).toEqual(['jwks.test', 'jwks.test']);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.error).toBeInstanceOf(RefusedAddressError);
    } finally {
      await cache.close();
    }
  });

  it('H15-5: an address literal that is refused never gets a socket (checked before tls.connect)', async () => {
    const connect = vi.spyOn(tls, 'connect');
    for (const uri of [
      `https://127.0.0.1:${port}/jwks.json`,
      `https://[::ffff:127.0.0.1]:${port}/jwks.json`,
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/jwks.json',
      'https://10.0.0.5/jwks.json',
    ]) {
      const cache = createJwksUriCache({ ca: pki.root.pem, minRefreshMs: 0, validate: (text) => JSON.parse(text) });
      try {
        await cache.ensure('device', uri, undefined);
        expect(cache.peek('device', uri).error).toMatch(
          /^\S+ is an? (loopback|link-local|private) address; certbound fetches only public addresses unless the range is allowed by CERTBOUND_JWKS_URI_ALLOWED_RANGES$/,
        );
      } finally {
        await cache.close();
      }
      await expect(fetchJwksUriOnce(uri, { ca: pki.root.pem, validate: (text) => JSON.parse(text) })).rejects.toMatchObject({ code: 'ERR_JWKS_URI_UNAVAILABLE' });
    }
    expect(connect).not.toHaveBeenCalled();
    expect(seen.refused).toBe(0);
  });

  it('H15-5: the allowed address serves only under the name its certificate carries (SNI and verification stay on the host name)', async () => {
    // the same spy as above sees the connections that are made
    const connect = vi.spyOn(tls, 'connect');
    const cache = createJwksUriCache({
      ca: pki.root.pem,
      minRefreshMs: 0,
      allowedRanges: ['127.0.0.2/32'],
      resolve: async () => [{ address: '127.0.0.2', family: 4 }],
      validate: (text) => JSON.parse(text),
    });
    try {
      await cache.ensure('other', `https://other.test:${port}/jwks.json`, undefined);
      const state = cache.peek('other', `https://other.test:${port}/jwks.json`);
      expect(state.jwks).toBeUndefined();
      // the TLS error (altname mismatch) is not in the caller's reason
      expect(state.error).toMatch(/^no JWKS could be fetched from other\.test:\d+: the connection failed, timed out, or the TLS handshake failed/);
      expect(state.error).not.toMatch(/altname|ERR_TLS|Hostname\/IP/i);
      expect(connect).toHaveBeenCalledWith(expect.objectContaining({ host: 'other.test', servername: 'other.test', lookup: expect.any(Function) }));
    } finally {
      await cache.close();
    }
  });
});
