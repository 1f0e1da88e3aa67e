import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxyTrust, extractForwardedCertificate, ForwardedCertificateError, type ForwardedCertificateOptions } from '../../src/forwarded/index.js';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { albEscape, nginxEscape, type Probe, RFC9440_B64, RFC9440_HEX, RFC9440_PEM, RFC9440_X5T, rawRequest, startServer } from './fixtures.js';

/** The server answers 200 {x5t, chain, remote} or the error's status and {code}. */
function handlerFor(options: ForwardedCertificateOptions) {
  return (req: IncomingMessage, res: ServerResponse) => {
    try {
      const cert = extractForwardedCertificate(req, options);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ x5t: cert ? x5tS256(cert.der) : null, chain: cert?.chain.length ?? 0, remote: req.socket.remoteAddress }));
    } catch (err) {
      if (!(err instanceof ForwardedCertificateError)) throw err;
      res.writeHead(err.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: err.code, remote: req.socket.remoteAddress }));
    }
  };
}

describe('extractForwardedCertificate through a real HTTP server on 127.0.0.1', () => {
  const servers: Record<string, Probe> = {};
  beforeAll(async () => {
    servers.rfc9440 = await startServer(handlerFor({ format: 'rfc9440', trustedProxies: ['127.0.0.1'] }));
    servers.nginx = await startServer(handlerFor({ format: 'nginx', trustedProxies: ['127.0.0.1'] }));
    servers.nginxCustom = await startServer(handlerFor({ format: 'nginx', header: 'X-Client-Pem', trustedProxies: ['127.0.0.1'] }));
    servers.xfcc = await startServer(handlerFor({ format: 'xfcc', trustedProxies: ['127.0.0.0/8'] }));
    servers.alb = await startServer(handlerFor({ format: 'alb', trustedProxies: ['127.0.0.1'] }));
    servers.traefik = await startServer(handlerFor({ format: 'traefik', trustedProxies: ['127.0.0.1'] }));
    servers.albPassthrough = await startServer(handlerFor({ format: 'alb-passthrough', trustedProxies: ['127.0.0.1'] }));
    servers.haproxy = await startServer(handlerFor({ format: 'base64', trustedProxies: ['127.0.0.1'] }));
    servers.untrusted = await startServer(handlerFor({ format: 'rfc9440', trustedProxies: ['10.0.0.0/8', '::1/128'] }));
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });

  const send = (name: string, headers: Array<[string, string]>) => rawRequest(servers[name]!.port, headers);

  it('RFC 9440 Client-Cert from a trusted peer → the RFC 9440 thumbprint', async () => {
    const res = await send('rfc9440', [['Client-Cert', `:${RFC9440_B64}:`]]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ x5t: RFC9440_X5T, chain: 0, remote: '127.0.0.1' });
  });
  it('header names are case-insensitive', async () => {
    const res = await send('rfc9440', [['client-cert', `:${RFC9440_B64}:`]]);
    expect(JSON.parse(res.body).x5t).toBe(RFC9440_X5T);
  });
  it('no header → undefined (no certificate), not an error', async () => {
    const res = await send('rfc9440', []);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).x5t).toBeNull();
  });
  it('§2.0.4: two Client-Cert lines are refused (seen through rawHeaders)', async () => {
    const res = await send('rfc9440', [
      ['Client-Cert', `:${RFC9440_B64}:`],
      ['Client-Cert', `:${RFC9440_B64}:`],
    ]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_FORWARDED_DUPLICATE');
  });
  it('§2.0.4: Client-Cert-Chain may occur several times and is joined in order', async () => {
    const res = await send('rfc9440', [
      ['Client-Cert', `:${RFC9440_B64}:`],
      ['Client-Cert-Chain', `:${RFC9440_B64}:`],
      ['Client-Cert-Chain', `:${RFC9440_B64}:, :${RFC9440_B64}:`],
    ]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).chain).toBe(3);
  });
  it('Client-Cert-Chain without Client-Cert is refused', async () => {
    const res = await send('rfc9440', [['Client-Cert-Chain', `:${RFC9440_B64}:`]]);
    expect(JSON.parse(res.body).code).toBe('ERR_FORWARDED_MALFORMED');
  });
  it('§2.0.8: underscore spellings are ignored, never mapped to hyphens', async () => {
    const res = await send('traefik', [['X_Forwarded_Tls_Client_Cert', RFC9440_B64]]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).x5t).toBeNull();
    const nginx = await send('nginx', [['X_SSL_Client_Cert', nginxEscape(RFC9440_PEM)]]);
    expect(JSON.parse(nginx.body).x5t).toBeNull();
  });
  it('nginx default header X-SSL-Client-Cert and a configured header name', async () => {
    expect(JSON.parse((await send('nginx', [['X-SSL-Client-Cert', nginxEscape(RFC9440_PEM)]])).body).x5t).toBe(RFC9440_X5T);
    expect(JSON.parse((await send('nginxCustom', [['X-Client-Pem', nginxEscape(RFC9440_PEM)]])).body).x5t).toBe(RFC9440_X5T);
    // With a configured name, the default one means nothing.
    expect(JSON.parse((await send('nginxCustom', [['X-SSL-Client-Cert', nginxEscape(RFC9440_PEM)]])).body).x5t).toBeNull();
  });
  it('Envoy XFCC with Hash; two XFCC header lines are refused', async () => {
    const xfcc = `Hash=${RFC9440_HEX};Cert="${nginxEscape(RFC9440_PEM)}";Subject="CN=BC"`;
    expect(JSON.parse((await send('xfcc', [['x-forwarded-client-cert', xfcc]])).body).x5t).toBe(RFC9440_X5T);
    const twice = await send('xfcc', [
      ['x-forwarded-client-cert', xfcc],
      ['x-forwarded-client-cert', xfcc],
    ]);
    expect(twice.status).toBe(400);
    expect(JSON.parse(twice.body).code).toBe('ERR_FORWARDED_DUPLICATE');
  });
  it('ALB: verify-mode leaf accepted; the passthrough header alongside it is refused', async () => {
    expect(JSON.parse((await send('alb', [['X-Amzn-Mtls-Clientcert-Leaf', albEscape(RFC9440_PEM)]])).body).x5t).toBe(RFC9440_X5T);
    const both = await send('alb', [
      ['X-Amzn-Mtls-Clientcert-Leaf', albEscape(RFC9440_PEM)],
      ['X-Amzn-Mtls-Clientcert', albEscape(RFC9440_PEM)],
    ]);
    expect(JSON.parse(both.body).code).toBe('ERR_FORWARDED_MALFORMED');
  });
  it('ALB passthrough chain (leaf first) and HAProxy base64 through real requests', async () => {
    const chain = await send('albPassthrough', [['X-Amzn-Mtls-Clientcert', albEscape(RFC9440_PEM + RFC9440_PEM)]]);
    expect(JSON.parse(chain.body)).toMatchObject({ x5t: RFC9440_X5T, chain: 1 });
    const haproxy = await send('haproxy', [['X-SSL-Client-Cert', RFC9440_B64]]);
    expect(JSON.parse(haproxy.body)).toMatchObject({ x5t: RFC9440_X5T, chain: 0 });
    const traefik = await send('traefik', [['X-Forwarded-Tls-Client-Cert', encodeURIComponent(RFC9440_B64)]]);
    expect(JSON.parse(traefik.body).x5t).toBe(RFC9440_X5T);
  });
  it('X-10: an oversized header is refused as too large', async () => {
    const res = await send('haproxy', [['X-SSL-Client-Cert', 'A'.repeat(200 * 1024)]]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_FORWARDED_TOO_LARGE');
  });
  it('§3.3 row 11: a certificate header from an untrusted peer → 400 ERR_FORWARDED_UNTRUSTED_PEER', async () => {
    const res = await send('untrusted', [['Client-Cert', `:${RFC9440_B64}:`]]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ code: 'ERR_FORWARDED_UNTRUSTED_PEER', remote: '127.0.0.1' });
  });
  it('X-Forwarded-For naming a trusted proxy changes nothing', async () => {
    const res = await send('untrusted', [
      ['X-Forwarded-For', '10.0.0.1'],
      ['Client-Cert', `:${RFC9440_B64}:`],
    ]);
    expect(JSON.parse(res.body).code).toBe('ERR_FORWARDED_UNTRUSTED_PEER');
  });
  it('an untrusted peer without a certificate header is simply not forwarded anything', async () => {
    const res = await send('untrusted', []);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).x5t).toBeNull();
  });
});

describe('trusted peers over IPv6 and IPv4-mapped IPv6 (dual-stack listener on ::)', () => {
  let dual: Probe;
  beforeAll(async () => {
    dual = await startServer(handlerFor({ format: 'rfc9440', trustedProxies: ['127.0.0.2', '::1/128'] }), '::');
  });
  afterAll(() => dual.close());

  it('IPv4-mapped peer ::ffff:127.0.0.2 matches the IPv4 entry 127.0.0.2', async () => {
    const res = await rawRequest(dual.port, [['Client-Cert', `:${RFC9440_B64}:`]], { host: '127.0.0.2', localAddress: '127.0.0.2' });
    expect(JSON.parse(res.body)).toMatchObject({ x5t: RFC9440_X5T, remote: '::ffff:127.0.0.2' });
  });
  it('::ffff:127.0.0.1 is not trusted', async () => {
    const res = await rawRequest(dual.port, [['Client-Cert', `:${RFC9440_B64}:`]], { host: '127.0.0.1', localAddress: '127.0.0.1' });
    expect(JSON.parse(res.body)).toEqual({ code: 'ERR_FORWARDED_UNTRUSTED_PEER', remote: '::ffff:127.0.0.1' });
  });
  it('IPv6 peer ::1 matches ::1/128', async () => {
    const res = await rawRequest(dual.port, [['Client-Cert', `:${RFC9440_B64}:`]], { host: '::1' });
    expect(JSON.parse(res.body)).toMatchObject({ x5t: RFC9440_X5T, remote: '::1' });
  });
});

describe('createProxyTrust', () => {
  const trust = createProxyTrust(['10.0.0.0/8', '::1/128', '127.0.0.2', '2001:db8::/32']);
  it.each([
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['::ffff:10.9.9.9', true],
    ['::FFFF:127.0.0.2', true],
    ['127.0.0.2', true],
    ['127.0.0.1', false],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::2', false],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['fe80::1%eth0', false],
    ['localhost', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(trust.isTrusted(address)).toBe(expected);
  });
  it('undefined (destroyed socket) is never trusted', () => expect(trust.isTrusted(undefined)).toBe(false));
  it('an IPv4-mapped entry also trusts the plain IPv4 peer', () => {
    expect(createProxyTrust(['::ffff:192.0.2.7']).isTrusted('192.0.2.7')).toBe(true);
  });
  it('invalid entries are a TypeError (configuration mistake)', () => {
    expect(() => createProxyTrust(['10.0.0.0/33'])).toThrow(TypeError);
    expect(() => createProxyTrust(['10.0.0'])).toThrow(TypeError);
    expect(() => createProxyTrust(['example.com'])).toThrow(TypeError);
    expect(() => createProxyTrust(['::1/129'])).toThrow(TypeError);
    expect(() => createProxyTrust(['10.0.0.0/x'])).toThrow(TypeError);
  });
  it('an empty list trusts nobody', () => expect(createProxyTrust([]).isTrusted('127.0.0.1')).toBe(false));
  it.each(['::/0', '::1/64', '::ffff:0:0/96', '::/96'])('PKI-3: the IPv6 range %s never trusts an IPv4 peer, plain or IPv4-mapped', (entry) => {
    const v6 = createProxyTrust([entry]);
    expect(v6.isTrusted('203.0.113.5')).toBe(false);
    expect(v6.isTrusted('::ffff:203.0.113.5')).toBe(false);
    expect(v6.isTrusted('127.0.0.1')).toBe(false);
  });
  it('an IPv6 range still trusts its IPv6 peers; an IPv4 range trusts the IPv4-mapped form of its peers only', () => {
    expect(createProxyTrust(['::/0']).isTrusted('2001:db8::1')).toBe(true);
    const v4 = createProxyTrust(['10.0.0.0/8']);
    expect(v4.isTrusted('::ffff:10.1.2.3')).toBe(true);
    expect(v4.isTrusted('::ffff:11.1.2.3')).toBe(false);
    expect(v4.isTrusted('2001:db8::1')).toBe(false);
  });
  it('an IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range 10.0.0.0/8; one shorter than /96 is refused with the IPv4 form to write', () => {
    const mapped = createProxyTrust(['::ffff:10.0.0.0/104']);
    expect(mapped.isTrusted('10.200.0.1')).toBe(true);
    expect(mapped.isTrusted('::ffff:10.200.0.1')).toBe(true);
    expect(mapped.isTrusted('11.0.0.1')).toBe(false);
    expect(() => createProxyTrust(['::ffff:10.0.0.0/64'])).toThrow(/shorter than \/96; write the IPv4 range instead/);
  });
});

describe('PKI-3: an IPv6 trustedProxies range meant for IPv6 proxies', () => {
  let server: Probe;
  beforeAll(async () => {
    server = await startServer(handlerFor({ format: 'rfc9440', trustedProxies: ['::/0'] }));
  });
  afterAll(() => server.close());

  it('does not let an IPv4 client (127.0.0.1) forward a certificate: 400 ERR_FORWARDED_UNTRUSTED_PEER', async () => {
    const res = await rawRequest(server.port, [['Client-Cert', `:${RFC9440_B64}:`]]);
    expect(res.status).toBe(400);
    expect(res.body).toContain('ERR_FORWARDED_UNTRUSTED_PEER');
  });
});
