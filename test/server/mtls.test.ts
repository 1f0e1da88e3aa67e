/**
 * The mTLS hooks and the parsed client certificates belong to one server: two servers in one process
 * (tests start several; an embedder may too) share no cache. Fake TLS sockets stand in for the
 * handshakes, since what is checked is which server remembers what (a resumed session reports neither
 * the chain nor the anchor; only the server whose full handshake saw them may fill them in).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, spkiSha256, x5tS256 } from '../../src/pki/index.js';
import { createClientCertificates } from '../../src/server/client-certificate.js';
import { createMtlsHooks } from '../../src/server/mtls.js';
import type { TrustAnchor } from '../../src/store/index.js';
import { createTestPki, type Issued, type TestPki } from '../helpers/pki.js';

interface Node {
  raw: Buffer;
  issuerCertificate?: Node;
}

/** A TLS socket as the hooks read it: authorized by OpenSSL, from a full handshake or a resumed session. */
function fakeSocket(chain: Buffer[], resumed: boolean) {
  const nodes: Node[] = chain.map((raw) => ({ raw }));
  nodes.forEach((n, i) => {
    n.issuerCertificate = nodes[i + 1] ?? n;
  });
  return {
    authorized: true,
    authorizationError: null,
    isSessionReused: () => resumed,
    getPeerCertificate: () => nodes[0],
    getPeerX509Certificate: () => undefined,
  };
}

const request = (socket: object) => ({ req: { socket }, state: {} });

let pki: TestPki;
let client: Issued;
let anchor: TrustAnchor;

beforeAll(async () => {
  pki = await createTestPki('Instances');
  client = await pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
  const root = parseCertificate(pki.root.der);
  anchor = {
    id: 'a1',
    name: 'corp-root',
    pem: pki.root.pem,
    spkiSha256: spkiSha256(pki.root.der),
    x5tS256: x5tS256(pki.root.der),
    subject: root.subjectRfc4514,
    environment: null,
    allowMissingEku: false,
    notAfter: root.notAfter,
    createdAt: new Date(),
  };
});

function server() {
  const anchors = new Map([[anchor.x5tS256, anchor]]);
  return createMtlsHooks({ anchorsByThumbprint: () => anchors, certificates: createClientCertificates() });
}

describe('two servers in one process', () => {
  it('a resumed session is completed from the full handshake of its own server only (anchor and chain)', () => {
    const [a, b] = [server(), server()];
    const full = a.peerCertificate(request(fakeSocket([client.der, pki.intermediate.der, pki.root.der], false)));
    expect(full?.anchor?.name).toBe('corp-root');
    expect(full?.chain).toEqual([pki.intermediate.der, pki.root.der]);

    // The same leaf resumed on the server that saw the full handshake: its anchor and chain are known.
    const resumedOnA = a.peerCertificate(request(fakeSocket([client.der], true)));
    expect(resumedOnA?.anchor?.name).toBe('corp-root');
    expect(resumedOnA?.chain).toEqual([pki.intermediate.der, pki.root.der]);

    // On the other server, which trusts the same anchor but never saw a full handshake: neither.
    const resumedOnB = b.peerCertificate(request(fakeSocket([client.der], true)));
    expect(resumedOnB?.anchor).toBeUndefined();
    expect(resumedOnB?.chain).toEqual([]);
  });

  it('each server parses a certificate once, into objects of its own', () => {
    const [a, b] = [createClientCertificates(), createClientCertificates()];
    const first = a.parse(client.der).parsed;
    expect(first).toBeDefined();
    expect(a.parse(client.der).parsed).toBe(first);
    const other = b.parse(client.der).parsed;
    expect(other).toBeDefined();
    expect(other).not.toBe(first);
    expect(other?.x5t).toBe(first?.x5t);
  });
});
