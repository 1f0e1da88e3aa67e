/**
 * A tiny PKI built at test time (STYLE habit 5): root and intermediate CAs, client and server leaves,
 * self-signed certificates. Nothing here is committed as a fixture.
 *
 * Names are given as @peculiar/x509 JSON names in ASN.1 order (first element = first RDN in the
 * certificate), e.g. `[{ C: ['US'] }, { O: ['Acme'] }, { CN: ['client1'] }]`; a multi-valued RDN is one
 * element with several keys; `{ CN: [{ bmpString: 'Zoë' }] }` picks the string type.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type NameSpec = ConstructorParameters<typeof x509.Name>[0];

export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** PEM of this certificate only. */
  pem: string;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  der: Buffer;
}

export interface SanSpec {
  type: 'dns' | 'ip' | 'email' | 'url';
  value: string;
}

export interface LeafOptions {
  subject: NameSpec;
  san?: SanSpec[];
  /** Extended key usages; default `[clientAuth]`; `null` omits the extension. */
  eku?: string[] | null;
  notBefore?: Date;
  notAfter?: Date;
  serialNumber?: string;
  /** Reuse a key pair (certificate rotation with the same key, or SS-3 tests). */
  keys?: CryptoKeyPair;
  extraExtensions?: x509.Extension[];
}

async function toIssued(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<Issued> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { cert, keys, pem: `${cert.toString('pem')}\n`, keyPem, der: Buffer.from(cert.rawData) };
}

export async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

function serial(): string {
  // positive, 16 bytes
  return `7${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`;
}

export interface CaOptions {
  name: NameSpec;
  /** Issuer; omitted for a self-signed root. */
  parent?: Issued;
  pathLength?: number;
  notBefore?: Date;
  notAfter?: Date;
}

export async function createCa(options: CaOptions): Promise<Issued> {
  const keys = await generateKeys();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, options.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const common = {
    serialNumber: serial(),
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + 3650 * DAY),
    signingAlgorithm: SIGN,
  };
  if (!options.parent) {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      ...common,
      name: options.name as x509.JsonName,
      keys,
      extensions,
    });
    return toIssued(cert, keys);
  }
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(options.parent.cert));
  const cert = await x509.X509CertificateGenerator.create({
    ...common,
    subject: options.name as x509.JsonName,
    issuer: options.parent.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: options.parent.keys.privateKey,
    extensions,
  });
  return toIssued(cert, keys);
}

export async function issueLeaf(issuer: Issued, options: LeafOptions): Promise<Issued> {
  const keys = options.keys ?? (await generateKeys());
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.cert),
  ];
  const eku = options.eku === undefined ? [EKU_CLIENT_AUTH] : options.eku;
  if (eku) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  if (options.san?.length) extensions.push(new x509.SubjectAlternativeNameExtension(options.san));
  extensions.push(...(options.extraExtensions ?? []));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? serial(),
    subject: options.subject as x509.JsonName,
    issuer: issuer.cert.subjectName,
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + 365 * DAY),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions,
  });
  return toIssued(cert, keys);
}

export async function selfSigned(options: LeafOptions): Promise<Issued> {
  const keys = options.keys ?? (await generateKeys());
  const now = Date.now();
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  const eku = options.eku === undefined ? [EKU_CLIENT_AUTH] : options.eku;
  if (eku) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  if (options.san?.length) extensions.push(new x509.SubjectAlternativeNameExtension(options.san));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: options.serialNumber ?? serial(),
    name: options.subject as x509.JsonName,
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + 365 * DAY),
    signingAlgorithm: SIGN,
    keys,
    extensions,
  });
  return toIssued(cert, keys);
}

/** A complete test PKI: root → intermediate → leaves, plus a TLS server certificate. */
export interface TestPki {
  root: Issued;
  intermediate: Issued;
  server: Issued;
  /** Leaf PEM followed by the intermediate (what a well-configured client sends). */
  chainOf(leaf: Issued): string;
  client(options: LeafOptions): Promise<Issued>;
}

export async function createTestPki(label = 'Test'): Promise<TestPki> {
  const root = await createCa({ name: [{ O: [`${label} PKI`] }, { CN: [`${label} Root CA`] }] });
  const intermediate = await createCa({ name: [{ O: [`${label} PKI`] }, { CN: [`${label} Issuing CA`] }], parent: root, pathLength: 0 });
  const server = await issueLeaf(intermediate, {
    subject: [{ CN: ['localhost'] }],
    san: [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ],
    eku: [EKU_SERVER_AUTH],
  });
  return {
    root,
    intermediate,
    server,
    chainOf: (leaf) => leaf.pem + intermediate.pem,
    client: (options) => issueLeaf(intermediate, options),
  };
}
