/**
 * Client certificates for the hostile corpus, made when the tests start: well-formed leaves from the test
 * PKI (always with EKU clientAuth and keyUsage digitalSignature unless a case says otherwise), and leaves
 * built byte by byte where @peculiar/x509 will not produce the defect (v1, duplicate extensions, a
 * malformed SAN, CA:TRUE on a leaf), signed by the real issuing CA so that only the defect is wrong.
 */
import { KeyObject, sign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type Bytes, der, name as dnName, OID, tlv, toPem } from '../../helpers/asn1.js';
import { createCa, generateKeys, type Issued, issueLeaf, type LeafOptions, selfSigned, type TestPki } from '../../helpers/pki.js';

/** What a client presents: the leaf, the certificates it sends after it, and its key. */
export interface Presented {
  /** PEM of the leaf alone. */
  pem: string;
  /** DER of the leaf (what a token must be bound to). */
  der: Buffer;
  /** DER of the certificates sent after the leaf (TLS order). */
  chain: Buffer[];
  keyPem: string;
}

export const fromIssued = (leaf: Issued, ...chain: Issued[]): Presented => ({ pem: leaf.pem, der: leaf.der, chain: chain.map((c) => c.der), keyPem: leaf.keyPem });

/** PEM of leaf + chain, as a TLS client sends it. */
export function chainPem(p: Presented): string {
  return p.pem + p.chain.map((d) => toPem(d)).join('');
}

async function keyPemOf(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

/** The DER of an @peculiar/x509 extension (an Extension SEQUENCE). */
export const ext = (e: x509.Extension): Uint8Array => new Uint8Array(e.rawData);

export interface CraftLeafOptions {
  /** 1: no version field and no extensions (whatever `extensions` says); default 3. */
  version?: 1 | 3;
  /** DER of the subject Name. */
  subject: Bytes;
  /** Complete Extension elements, in order (duplicates allowed: that is the point). */
  extensions: Bytes[];
  /** Signs with this key instead of the issuer's (a signature that does not verify). */
  signWith?: CryptoKey;
}

/** A leaf built byte by byte, issued (signed) by `issuer`, with a fresh P-256 key the client holds. */
export async function craftLeaf(issuer: Issued, options: CraftLeafOptions): Promise<Presented> {
  const keys = await generateKeys();
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey as webcrypto.CryptoKey));
  const now = Date.now();
  const algorithm = der.seq(der.oid(OID.ecdsaWithSha256));
  const serial = new Uint8Array(webcrypto.getRandomValues(new Uint8Array(12)));
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  const v3 = options.version !== 1;
  const tbs = der.seq(
    ...(v3 ? [der.explicit(0, der.int(2))] : []),
    der.int(serial),
    algorithm,
    new Uint8Array(issuer.cert.subjectName.toArrayBuffer()),
    der.seq(der.utcTime(new Date(now - 86_400_000)), der.utcTime(new Date(now + 30 * 86_400_000))),
    options.subject,
    spki,
    ...(v3 && options.extensions.length ? [der.explicit(3, der.seq(...options.extensions))] : []),
  );
  const signature = sign('sha256', tbs, KeyObject.from((options.signWith ?? issuer.keys.privateKey) as webcrypto.CryptoKey));
  const certificate = Buffer.from(der.seq(tbs, algorithm, der.bitString(signature)));
  return { pem: toPem(certificate), der: certificate, chain: [], keyPem: await keyPemOf(keys) };
}

/** DER Name in ASN.1 order from `[oid, value]` pairs, each its own RDN, values UTF8String. */
export function simpleName(...rdns: [string, string][]): Uint8Array {
  return dnName(rdns.map(([oid, value]) => [[oid, der.utf8(value)]] as const));
}

/** The usual leaf extensions as DER, for crafted leaves (each can be replaced or repeated by a case). */
export async function leafExtensions(issuer: Issued, keysFor?: CryptoKeyPair) {
  return {
    notCa: ext(new x509.BasicConstraintsExtension(false, undefined, true)),
    ca: ext(new x509.BasicConstraintsExtension(true, undefined, true)),
    digitalSignature: ext(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)),
    clientAuth: ext(new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2'])),
    aki: ext(await x509.AuthorityKeyIdentifierExtension.create(issuer.cert)),
    ...(keysFor ? { ski: ext(await x509.SubjectKeyIdentifierExtension.create(keysFor.publicKey)) } : {}),
  };
}

/** A name-constraints extension permitting only dNSNames under `permitted` (critical, RFC 5280 §4.2.1.10). */
export function nameConstraintsDns(permitted: string): x509.Extension {
  // permittedSubtrees [0] IMPLICIT GeneralSubtrees: one GeneralSubtree { base dNSName }
  const value = der.seq(tlv(0xa0, der.seq(der.implicit(2, new Uint8Array(Buffer.from(permitted, 'latin1'))))));
  return new x509.Extension('2.5.29.30', true, Uint8Array.from(value));
}

/** Everything the certificate table needs, made once per test file. */
export interface CertKit {
  pki: TestPki;
  /** A leaf from the test PKI's issuing CA, sent with that CA. */
  leaf(options: LeafOptions): Promise<Presented>;
  /** A CA (and its issuing CA) no trust anchor covers. */
  foreign: { root: Issued; issuing: Issued };
  /** An issuing CA under the test root that may only issue dNSNames under `allowed.example`. */
  constrained: Issued;
  /** The self-signed certificate registered for the self-signed client. */
  registeredSelfSigned: Issued;
  craft(options: CraftLeafOptions): Promise<Presented>;
  /** Crafted leaves' standard extensions (issuer: the test PKI's issuing CA). */
  std: Awaited<ReturnType<typeof leafExtensions>>;
}

export async function createCertKit(pki: TestPki): Promise<CertKit> {
  const foreignRoot = await createCa({ name: [{ O: ['Elsewhere'] }, { CN: ['Foreign Root CA'] }] });
  const foreignIssuing = await createCa({ name: [{ O: ['Elsewhere'] }, { CN: ['Foreign Issuing CA'] }], parent: foreignRoot, pathLength: 0 });
  const constrainedKeys = await createCa({ name: [{ O: ['Test PKI'] }, { CN: ['Constrained Issuing CA'] }], parent: pki.root, pathLength: 0 });
  // createCa has no name-constraints option: reissue the same key and name with the extension added.
  const constrainedCert = await x509.X509CertificateGenerator.create({
    serialNumber: '0a1b2c3d4e',
    subject: constrainedKeys.cert.subjectName,
    issuer: pki.root.cert.subjectName,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 3650 * 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: constrainedKeys.keys.publicKey,
    signingKey: pki.root.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(constrainedKeys.keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(pki.root.cert),
      nameConstraintsDns('allowed.example'),
    ],
  });
  const constrained: Issued = { ...constrainedKeys, cert: constrainedCert, pem: `${constrainedCert.toString('pem')}\n`, der: Buffer.from(constrainedCert.rawData) };
  const registeredSelfSigned = await selfSigned({ subject: [{ CN: ['hx-ss device'] }] });
  const std = await leafExtensions(pki.intermediate);
  return {
    pki,
    leaf: async (options) => fromIssued(await issueLeaf(pki.intermediate, options), pki.intermediate),
    foreign: { root: foreignRoot, issuing: foreignIssuing },
    constrained,
    registeredSelfSigned,
    craft: async (options) => ({ ...(await craftLeaf(pki.intermediate, options)), chain: [pki.intermediate.der] }),
    std,
  };
}
