/**
 * H15-4 / X-11 / SC-6: a client certificate OpenSSL cannot verify (a signature that does not verify; an
 * extension it cannot decode: two SAN or EKU extensions, a SAN that is not GeneralNames) still gets an
 * HTTP answer over direct TLS: 401 invalid_client with a ref, and a log line whose reason is the one the
 * same certificate gets through a trusted proxy's headers, and the one `certbound doctor` gives.
 *
 * Why it needed a fix: OpenSSL leaves the errors of such a verification on the thread's error queue, and
 * Node's next TLS read took them for a fatal error of the connection (src/server/verify-errors.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { runCliCaptured } from '../../helpers/cli.js';
import { der, OID, sanExtension } from '../../helpers/asn1.js';
import { freePort } from '../../helpers/net.js';
import { rawHttpsRequest } from '../../helpers/proxy.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { type CertKit, chainPem, createCertKit, type Presented, simpleName } from '../../hostile/lib/certs.js';

const API = 'https://api.example.com';
const TRUSTED = '127.0.0.2';
const DIRECT = '127.0.0.1';
const CLIENT = 'unverifiable';

let s: TestServer;
let k: CertKit;
let dir: string;

/** The four certificates of the hostile corpus (CERT-24, -33, -34, -36), all for the same registered DN. */
const CASES: [title: string, code: string, make: (k: CertKit) => Promise<Presented>][] = [
  [
    'SC-6: a leaf signed by another key under its CA name (OpenSSL: CERT_SIGNATURE_FAILURE)',
    'CHAIN_INVALID',
    (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki],
        signWith: k.foreign.root.keys.privateKey,
      }),
  ],
  [
    'X-11: two SAN extensions (OpenSSL: invalid certificate)',
    'ERR_CERT_SAN_MALFORMED',
    (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.aki, sanExtension([{ dns: 'a.example.com' }]), sanExtension([{ dns: 'b.example.com' }])],
      }),
  ],
  [
    'X-11: two EKU extensions (OpenSSL: invalid certificate)',
    'ERR_CERT_PARSE',
    (k) =>
      k.craft({ subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']), extensions: [k.std.notCa, k.std.digitalSignature, k.std.clientAuth, k.std.clientAuth, k.std.aki] }),
  ],
  [
    'X-11: a SAN extension that is not GeneralNames (OpenSSL: invalid certificate)',
    'ERR_CERT_SAN_MALFORMED',
    (k) =>
      k.craft({
        subject: simpleName([OID.O, 'Hostile'], [OID.CN, 'hx-dn']),
        extensions: [
          k.std.notCa,
          k.std.digitalSignature,
          k.std.clientAuth,
          k.std.aki,
          der.seq(der.oid(OID.subjectAltName), der.octets(new Uint8Array([0x30, 0x05, 0x82, 0x09, 0x41]))),
        ],
      }),
  ],
];

const form = { grant_type: 'client_credentials', client_id: CLIENT };
const sf = (d: Buffer) => `:${d.toString('base64')}:`;

function refusalLine(res: { body: Record<string, unknown> }): Record<string, unknown> | undefined {
  const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
  return ref ? s.logs.find((l) => l.event === 'client_auth_refused' && l.ref === ref) : undefined;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-unverifiable-'));
  s = await startTestServer({ configOverrides: { trustedProxies: `${TRUSTED}/32`, clientCertHeader: 'rfc9440', adminPort: await freePort() } });
  k = await createCertKit(s.pki);
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addClient({ clientId: CLIENT, mapping: { kind: 'subject_dn', value: 'CN=hx-dn,O=Hostile' }, scopes: ['read'], defaultResource: API }, 'test');
}, 60_000);
afterAll(() => s?.close());

describe('a client certificate OpenSSL cannot verify, over direct TLS (H15-4, X-11, SC-6)', () => {
  it.each(CASES)('H15-4 %s → 401 invalid_client with a ref, reason %s, the same as through the proxy; doctor says the same', async (_title, code, make) => {
    const p = await make(k);
    const url = `${s.handle.mtlsUrl}/token`;

    const direct = await rawHttpsRequest({ url, ca: s.pki.root.pem, localAddress: DIRECT, form, cert: chainPem(p), key: p.keyPem });
    expect(direct.status, direct.text).toBe(401);
    expect(direct.body.error).toBe('invalid_client');
    const directLine = refusalLine(direct);
    expect(directLine, String(direct.body.error_description)).toMatchObject({ reason: code, client_id: CLIENT });

    const proxied = await rawHttpsRequest({
      url,
      ca: s.pki.root.pem,
      localAddress: TRUSTED,
      form,
      headers: [
        ['Client-Cert', sf(p.der)],
        ['Client-Cert-Chain', p.chain.map(sf).join(', ')],
      ],
    });
    expect(proxied.status, proxied.text).toBe(401);
    expect(refusalLine(proxied)).toMatchObject({ reason: code });

    const certFile = path.join(dir, `${directLine!.ref}.pem`);
    writeFileSync(certFile, chainPem(p));
    const doctor = await runCliCaptured({ CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir }, 'doctor', '--cert', certFile, '--client-id', CLIENT, '--json');
    expect(doctor.code, doctor.err).toBe(1);
    const diagnosis = JSON.parse(doctor.out) as { would_authenticate: boolean; code: string; message: string; hint: string | null; 'x5t#S256'?: string };
    expect(diagnosis).toMatchObject({ would_authenticate: false, code });
    expect(diagnosis.hint).toMatch(/reissue/i);
    // The log line and doctor name the same certificate.
    expect(directLine!.x5t).toBe(x5tS256(p.der));
  });

  it('H15-4/X-11: doctor explains a certificate certbound cannot parse in words too (code, what is wrong, what to do, the thumbprint)', async () => {
    const p = await CASES[1]![2](k);
    const certFile = path.join(dir, 'two-sans.pem');
    writeFileSync(certFile, p.pem);
    const doctor = await runCliCaptured({ CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir }, 'doctor', '--cert', certFile);
    expect(doctor.code).toBe(1);
    expect(doctor.out).toMatch(/^REFUSED: ERR_CERT_SAN_MALFORMED\n {2}The certificate has more than one subjectAltName extension\.\n {2}→ .*reissue/);
    expect(doctor.out).toMatch(/subject {5}O=Hostile, CN=hx-dn/);
    expect(doctor.out).toContain(x5tS256(p.der));
  });

  it('H15-4: a file that is not a certificate OpenSSL can read stays bad input for doctor (exit 2)', async () => {
    const file = path.join(dir, 'garbage.pem');
    writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${Buffer.from('not a certificate at all').toString('base64')}\n-----END CERTIFICATE-----\n`);
    const doctor = await runCliCaptured({ CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir }, 'doctor', '--cert', file);
    expect(doctor.code).toBe(2);
    expect(doctor.err).toMatch(/^error: /);
  });

  it('H15-4: the connection survives the refusal: a second request on it is answered too (keep-alive, same socket)', async () => {
    const p = await CASES[1]![2](k);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: s.pki.root.pem, cert: chainPem(p), key: p.keyPem, servername: 'localhost' });
    const post = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const body = new URLSearchParams(form).toString();
        const req = httpsRequest(
          `${s.handle.mtlsUrl}/token`,
          { method: 'POST', agent, localAddress: DIRECT, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await post()).toEqual({ status: 401, reused: false });
      expect(await post()).toEqual({ status: 401, reused: true });
    } finally {
      agent.destroy();
    }
  });

  it('H15-4: the admin listener (CERTBOUND_ADMIN_PORT) answers such a client too', async () => {
    const p = await CASES[0]![2](k);
    const res = await rawHttpsRequest({ url: `${s.handle.adminUrl}/admin/clients`, ca: s.pki.root.pem, localAddress: DIRECT, cert: chainPem(p), key: p.keyPem });
    expect(res.status, res.text).toBe(401);
  });
});
