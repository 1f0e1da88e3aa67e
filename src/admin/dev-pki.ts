/**
 * `certbound dev-pki`: a development PKI (root CA → intermediate CA → server and client leaves),
 * written as PEM files with a README that says what is what. Never for production.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

const keys = async () => (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
const serial = () => `7${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`;

async function keyPem(k: CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k.privateKey as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

const pem = (c: x509.X509Certificate) => `${c.toString('pem')}\n`;

async function ca(name: x509.JsonName, parent?: Issued): Promise<Issued> {
  const k = await keys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, parent ? 0 : undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
  ];
  const validity = { serialNumber: serial(), notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 3650 * DAY), signingAlgorithm: SIGN };
  if (!parent) {
    return { cert: await x509.X509CertificateGenerator.createSelfSigned({ ...validity, name, keys: k, extensions }), keys: k };
  }
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(parent.cert));
  const cert = await x509.X509CertificateGenerator.create({ ...validity, subject: name, issuer: parent.cert.subjectName, publicKey: k.publicKey, signingKey: parent.keys.privateKey, extensions });
  return { cert, keys: k };
}

async function leaf(issuer: Issued, name: x509.JsonName, san: { type: 'dns' | 'ip' | 'url' | 'email'; value: string }[], eku: string): Promise<Issued> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name,
    issuer: issuer.cert.subjectName,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    signingAlgorithm: SIGN,
    publicKey: k.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([eku]),
      new x509.SubjectAlternativeNameExtension(san),
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert),
    ],
  });
  return { cert, keys: k };
}

export interface DevPkiFiles {
  dir: string;
  /** Root CA: the trust anchor, and what HTTPS clients (curl --cacert) trust. */
  caPem: string;
  intermediatePem: string;
  /** Server certificate followed by the intermediate. */
  serverCertPem: string;
  serverKeyPem: string;
  /** Demo client certificate followed by the intermediate. */
  clientCertPem: string;
  clientKeyPem: string;
  /** The DNS SAN of the demo client certificate. */
  clientSanDns: string;
  paths: { ca: string; intermediate: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; readme: string };
}

export const DEV_CLIENT_SAN = 'demo-client.certbound.test';

/** The PEM files a development PKI consists of, by role (`certbound dev-pki` refuses to overwrite them). */
export const DEV_PKI_FILES = {
  ca: 'ca.pem',
  intermediate: 'intermediate.pem',
  serverCert: 'server.pem',
  serverKey: 'server.key',
  clientCert: 'client.pem',
  clientKey: 'client.key',
} as const;

/** Generates the development PKI and writes it to `dir` (keys with mode 0600). */
export async function generateDevPki(dir: string, options: { serverNames?: string[] } = {}): Promise<DevPkiFiles> {
  const root = await ca([{ O: ['certbound development'] }, { CN: ['certbound dev root CA'] }]);
  const intermediate = await ca([{ O: ['certbound development'] }, { CN: ['certbound dev issuing CA'] }], root);
  const serverNames = options.serverNames ?? ['localhost'];
  const server = await leaf(
    intermediate,
    [{ CN: [serverNames[0] ?? 'localhost'] }],
    [...serverNames.map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }],
    '1.3.6.1.5.5.7.3.1',
  );
  const client = await leaf(intermediate, [{ O: ['certbound development'] }, { CN: ['demo-client'] }], [{ type: 'dns', value: DEV_CLIENT_SAN }], '1.3.6.1.5.5.7.3.2');

  mkdirSync(dir, { recursive: true });
  const paths = {
    ca: path.join(dir, DEV_PKI_FILES.ca),
    intermediate: path.join(dir, DEV_PKI_FILES.intermediate),
    serverCert: path.join(dir, DEV_PKI_FILES.serverCert),
    serverKey: path.join(dir, DEV_PKI_FILES.serverKey),
    clientCert: path.join(dir, DEV_PKI_FILES.clientCert),
    clientKey: path.join(dir, DEV_PKI_FILES.clientKey),
    readme: path.join(dir, 'README.txt'),
  };
  const files: DevPkiFiles = {
    dir,
    caPem: pem(root.cert),
    intermediatePem: pem(intermediate.cert),
    serverCertPem: pem(server.cert) + pem(intermediate.cert),
    serverKeyPem: await keyPem(server.keys),
    clientCertPem: pem(client.cert) + pem(intermediate.cert),
    clientKeyPem: await keyPem(client.keys),
    clientSanDns: DEV_CLIENT_SAN,
    paths,
  };
  writeFileSync(paths.ca, files.caPem);
  writeFileSync(paths.intermediate, files.intermediatePem);
  writeFileSync(paths.serverCert, files.serverCertPem);
  writeFileSync(paths.serverKey, files.serverKeyPem, { mode: 0o600 });
  writeFileSync(paths.clientCert, files.clientCertPem);
  writeFileSync(paths.clientKey, files.clientKeyPem, { mode: 0o600 });
  writeFileSync(
    paths.readme,
    `certbound development PKI — for development only, never for production.

ca.pem            root CA "certbound dev root CA": the trust anchor for client certificates, and
                  what HTTPS clients trust for the server (curl --cacert ca.pem)
intermediate.pem  issuing CA "certbound dev issuing CA" (signed by the root)
server.pem        server certificate (${serverNames.join(', ')}, 127.0.0.1, ::1) followed by the intermediate
server.key        its private key
client.pem        client certificate CN=demo-client, SAN DNS ${DEV_CLIENT_SAN}, EKU clientAuth,
                  followed by the intermediate (clients must send their chain: the server trusts the root only)
client.key        its private key
`,
  );
  return files;
}
