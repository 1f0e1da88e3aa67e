/**
 * Hostile corpus, forwarded client certificates: the certificate table through a trusted proxy's RFC 9440
 * headers (certbound validating the chain), header injection at the authorization server, and
 * certbound/verifier in a resource server for every proxy format, from the proxy and from other peers.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createVerifier, type Verifier } from '../../src/verifier/index.js';
import type { JsonResponse } from '../helpers/net.js';
import { createTestPki } from '../helpers/pki.js';
import { rawHttpsRequest } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { API, type CertCase, certificateCases } from './cases/certificates.js';
import { asForwardedCases, FORMATS, type ForwardedMaterial, rsForwardedCases, sf, TRUSTED_PROXY } from './cases/forwarded.js';
import { brief, checkTable, createTally, rows } from './lib/corpus.js';
import { type CertKit, chainPem, createCertKit, type Presented } from './lib/certs.js';
import { closedConnection, registerCertClients, tokenOutcome } from './lib/setup.js';

const proxiedCertificateCases = certificateCases.map((c): CertCase => ({ ...c, id: c.id.replace('CERT-', 'FWD-CERT-'), finding: c.finding ?? c.findingOn?.proxy }));
checkTable([...proxiedCertificateCases, ...asForwardedCases, ...rsForwardedCases]);
const tally = createTally('forwarded certificates');
let s: TestServer;
let k: CertKit;
let m: ForwardedMaterial;
let token: string;
let rs: Server;
let rsPort: number;
const verifiers: Verifier[] = [];

/** One request on a fresh TLS connection from `from`; a connection closed without an answer is status 0. */
async function asRequest(url: string, from: string, headers: [string, string][], form: Record<string, string>, tlsCert?: Presented): Promise<JsonResponse> {
  try {
    return await rawHttpsRequest({ url, ca: s.pki.root.pem, localAddress: from, headers, form, ...(tlsCert ? { cert: chainPem(tlsCert), key: tlsCert.keyPem } : {}) });
  } catch (err) {
    return closedConnection(err);
  }
}

/** GET the resource server from `from` with raw header pairs (names may repeat). */
function rsRequest(path: string, from: string, headers: [string, string][]): Promise<number> {
  const flat = ['host', `127.0.0.1:${rsPort}`, 'authorization', `Bearer ${token}`, ...headers.flat()];
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: rsPort, path, localAddress: from, headers: flat as unknown as Record<string, string>, setHost: false, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const pki = await createTestPki('Hostile Proxy');
  [s, k] = await Promise.all([
    startTestServer({ pki, configOverrides: { trustedProxies: TRUSTED_PROXY, clientCertHeader: 'rfc9440', proxyChainValidation: 'validate' } }),
    createCertKit(pki),
  ]);
  await registerCertClients(s, k);
  m = {
    good: await k.leaf({ subject: [{ O: ['Hostile'] }, { CN: ['hx-dn'] }] }),
    other: await k.leaf({ subject: [{ CN: ['x'] }], san: [{ type: 'dns', value: 'hx-dns.example.com' }] }),
  };
  const res = await asRequest(
    `${s.handle.mtlsUrl}/token`,
    TRUSTED_PROXY,
    [
      ['Client-Cert', sf(m.good.der)],
      ['Client-Cert-Chain', sf(m.good.chain[0]!)],
    ],
    { grant_type: 'client_credentials', client_id: 'hx-dn' },
  );
  if (res.status !== 200) throw new Error(`no token for the resource-server cases: ${res.status} ${res.text}`);
  token = String(res.body.access_token);
  // One resource server, one verifier per proxy format (/rs/<format>).
  const handlers = new Map<string, ReturnType<Verifier['express']>>();
  for (const format of FORMATS) {
    const v = createVerifier({ issuer: s.issuer, audience: API, tls: { ca: pki.root.pem }, certificate: { from: 'forwarded', format, trustedProxies: [TRUSTED_PROXY] } });
    verifiers.push(v);
    handlers.set(`/rs/${format}`, v.express({ scopes: ['read'] }));
  }
  rs = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const handler = handlers.get(req.url ?? '');
    if (!handler) return void res.writeHead(404).end();
    handler(req, res, (err) => (err ? res.writeHead(500).end() : res.writeHead(200).end('ok')));
  });
  rs.listen(0, '0.0.0.0');
  await once(rs, 'listening');
  rsPort = (rs.address() as AddressInfo).port;
});
afterAll(async () => {
  console.log(tally.summary());
  await Promise.all(verifiers.map((v) => v.close()));
  await new Promise((r) => (rs ? rs.close(r) : r(undefined)));
  await s?.close();
});

describe('hostile corpus: the certificate table through a trusted proxy (RFC 9440, certbound validates)', () => {
  it.each(rows(proxiedCertificateCases))('%s', async (_title, c) => {
    const p = await c.present(k);
    const headers: [string, string][] = p
      ? [['Client-Cert', sf(p.der)], ...(p.chain.length ? ([['Client-Cert-Chain', p.chain.map(sf).join(', ')]] as [string, string][]) : [])]
      : [];
    const res = await asRequest(`${s.handle.mtlsUrl}/token`, TRUSTED_PROXY, headers, {
      grant_type: 'client_credentials',
      ...(c.clientId === null ? {} : { client_id: c.clientId }),
    });
    tally.judge(c, tokenOutcome(res, p?.der));
  });
});

describe('hostile corpus: forwarded headers at the authorization server', () => {
  it.each(rows(asForwardedCases))('%s', async (_title, c) => {
    const base = c.listener === 'main' ? s.handle.mainUrl : s.handle.mtlsUrl;
    const res = await asRequest(`${base}/token`, c.from, c.headers(m), { grant_type: 'client_credentials', client_id: c.clientId }, c.proxyTlsCert?.(m));
    tally.judge(c, tokenOutcome(res, m.good.der));
  });
});

describe('hostile corpus: forwarded headers at certbound/verifier, every proxy format', () => {
  it.each(rows(rsForwardedCases))('%s', async (_title, c) => {
    const status = await rsRequest(`/rs/${c.format}`, c.from, c.headers(m));
    tally.judge(c, { status, accepted: status === 200, detail: brief(undefined, `status ${status}`) });
  });
});
