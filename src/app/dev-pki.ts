/**
 * `certbound dev-pki`: a development PKI (root CA → intermediate CA → server and client leaves),
 * written as PEM files with a README that says what is what. Never for production.
 * The issuing CA's key stays beside its certificate so that `certbound dev-pki issue-client` can add
 * test clients later without anyone building a CA by hand.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { InvalidInputError } from '../errors/index.js';
import { DEMO_RESOURCE, DEMO_SCOPES } from './dev-demo.js';
import { parseCertificate } from '../pki/index.js';

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
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
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
  const cert = await x509.X509CertificateGenerator.create({
    ...validity,
    subject: name,
    issuer: parent.cert.subjectName,
    publicKey: k.publicKey,
    signingKey: parent.keys.privateKey,
    extensions,
  });
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
      ...(san.length ? [new x509.SubjectAlternativeNameExtension(san)] : []),
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
  paths: { ca: string; intermediate: string; intermediateKey: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; readme: string };
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
  intermediateKey: 'intermediate.key',
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
    intermediateKey: path.join(dir, DEV_PKI_FILES.intermediateKey),
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
  writeFileSync(paths.intermediateKey, await keyPem(intermediate.keys), { mode: 0o600 });
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
intermediate.key  its private key: \`certbound dev-pki issue-client\` signs new test clients with it
server.pem        server certificate (${serverNames.join(', ')}, 127.0.0.1, ::1) followed by the intermediate
server.key        its private key
client.pem        client certificate CN=demo-client, SAN DNS ${DEV_CLIENT_SAN}, EKU clientAuth,
                  followed by the intermediate (clients must send their chain: the server trusts the root only)
client.key        its private key
`,
  );
  return files;
}

export interface IssueDevClientInput {
  /** A client name: the file names, the CN of the default subject and the default DNS SAN's first label. */
  name: string;
  /** DNS SANs; default `<name>.certbound.test` unless a subject is given. */
  sanDns?: string[];
  /** The subject DN in RFC 4514 order (most specific RDN first); default `CN=<name>,O=certbound development`. */
  subject?: string;
}

export interface IssuedDevClient {
  /** The leaf followed by the issuing CA: what a client presents, since the server trusts the root only. */
  certPath: string;
  keyPath: string;
  /** The certificate's subject as RFC 4514 text. */
  subject: string;
  sanDns: string[];
  notAfter: Date;
  x5tS256: string;
  /** The `certbound client add` arguments that map a client to this certificate, for the demo API development mode registers. */
  clientAddArgs: string[];
}

const CLIENT_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** The directory under a dev PKI where issued test clients are written. */
export const DEV_CLIENTS_DIR = 'clients';

function readIssuingCa(dir: string): { certPem: string; keyPem: string } {
  const certPath = path.join(dir, DEV_PKI_FILES.intermediate);
  const keyPath = path.join(dir, DEV_PKI_FILES.intermediateKey);
  if (!existsSync(certPath)) {
    throw new InvalidInputError('ERR_DEV_PKI_MISSING', `${dir} holds no development PKI (no ${DEV_PKI_FILES.intermediate}).`, {
      hint: 'Start the server once in development mode (it creates <data dir>/dev-pki), or run `certbound dev-pki --out DIR` and pass --pki DIR.',
    });
  }
  if (!existsSync(keyPath)) {
    throw new InvalidInputError(
      'ERR_DEV_PKI_NO_CA_KEY',
      `The development PKI in ${dir} has no issuing CA key (${DEV_PKI_FILES.intermediateKey}): it was made before certbound kept that key, so it cannot issue clients.`,
      {
        hint: `Recreate it: run \`certbound dev-pki --out ${dir} --force\` (or delete ${dir} and start the server in development mode), then restart the server so it trusts the new root, and re-register clients that used the old certificates.`,
      },
    );
  }
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

async function importIssuingCa(dir: string): Promise<Issued> {
  const { certPem, keyPem: caKeyPem } = readIssuingCa(dir);
  const broken = (what: string, cause?: unknown) =>
    new InvalidInputError('ERR_DEV_PKI_CA_UNREADABLE', `The development PKI in ${dir} is damaged: ${what}.`, {
      hint: `Recreate it with \`certbound dev-pki --out ${dir} --force\`, then restart the server so it trusts the new root.`,
      cause,
    });
  let cert: x509.X509Certificate;
  let privateKey: CryptoKey;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (cause) {
    throw broken(`${DEV_PKI_FILES.intermediate} is not a PEM certificate`, cause);
  }
  try {
    const der = Buffer.from(caKeyPem.replace(/-----(BEGIN|END) PRIVATE KEY-----|\s/g, ''), 'base64');
    privateKey = (await webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign'])) as unknown as CryptoKey;
  } catch (cause) {
    throw broken(`${DEV_PKI_FILES.intermediateKey} is not a PKCS#8 P-256 private key`, cause);
  }
  return { cert, keys: { privateKey, publicKey: await cert.publicKey.export() } as CryptoKeyPair };
}

function parseSubject(subject: string): x509.JsonName {
  try {
    // @peculiar/x509 keeps the string's order as the DER order; RFC 4514 text lists the most specific RDN first.
    const json = new x509.Name(subject).toJSON().reverse();
    if (!json.length) throw new Error('empty');
    return json;
  } catch (cause) {
    throw new InvalidInputError('ERR_DEV_CLIENT_SUBJECT', `"${subject}" is not a distinguished name.`, {
      hint: 'Write it in RFC 4514, most specific RDN first, e.g. "CN=orders-worker,O=Acme".',
      details: { member: 'subject' },
      cause,
    });
  }
}

/**
 * Issues a test client certificate (EKU clientAuth, digitalSignature) from the development PKI in `dir`
 * and writes it, with its key (mode 0600), under `dir/clients/`. Refuses a name already issued.
 *
 * @example
 * const issued = await issueDevClient('data/dev-pki', { name: 'orders-worker' });
 * // issued.certPath: data/dev-pki/clients/orders-worker.pem; issued.clientAddArgs: ['client', 'add', '--id', 'orders-worker', …]
 */
export async function issueDevClient(dir: string, input: IssueDevClientInput): Promise<IssuedDevClient> {
  const { name } = input;
  if (!CLIENT_NAME.test(name)) {
    throw new InvalidInputError('ERR_DEV_CLIENT_NAME', `"${name}" is not usable as a client name.`, {
      hint: 'Use letters, digits, dots and hyphens (at most 64, starting and ending with a letter or digit), e.g. orders-worker.',
      details: { member: 'name' },
    });
  }
  const sanDns = input.sanDns ?? (input.subject === undefined ? [`${name.toLowerCase()}.certbound.test`] : []);
  const badSan = sanDns.find((d) => !DNS_NAME.test(d));
  if (badSan !== undefined) {
    throw new InvalidInputError('ERR_DEV_CLIENT_SAN_DNS', `"${badSan}" is not a DNS name.`, {
      hint: 'Give a host name such as orders-worker.example.test.',
      details: { member: 'sanDns' },
    });
  }
  const subject = parseSubject(input.subject ?? `CN=${name},O=certbound development`);
  const outDir = path.join(dir, DEV_CLIENTS_DIR);
  const certPath = path.join(outDir, `${name}.pem`);
  const keyPath = path.join(outDir, `${name}.key`);
  const existing = [certPath, keyPath].filter((f) => existsSync(f));
  if (existing.length) {
    throw new InvalidInputError('ERR_DEV_CLIENT_EXISTS', `A client named ${name} was already issued (${existing.join(', ')}).`, {
      hint: 'Pick another name, or delete those files first if you mean to replace that certificate.',
      details: { member: 'name' },
    });
  }
  const issuing = await importIssuingCa(dir);
  const client = await leaf(
    issuing,
    subject,
    sanDns.map((value) => ({ type: 'dns' as const, value })),
    '1.3.6.1.5.5.7.3.2',
  );
  if (!(await client.cert.verify({ publicKey: issuing.cert.publicKey, signatureOnly: true }))) {
    throw new InvalidInputError(
      'ERR_DEV_PKI_CA_UNREADABLE',
      `The development PKI in ${dir} is damaged: ${DEV_PKI_FILES.intermediateKey} does not belong to ${DEV_PKI_FILES.intermediate}.`,
      {
        hint: `Recreate it with \`certbound dev-pki --out ${dir} --force\`, then restart the server so it trusts the new root.`,
      },
    );
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(keyPath, await keyPem(client.keys), { mode: 0o600, flag: 'wx' });
  writeFileSync(certPath, pem(client.cert) + pem(issuing.cert), { flag: 'wx' });
  const match = sanDns.length ? ['--match', 'san-dns', ...(sanDns.length > 1 ? ['--value', sanDns[0]!] : [])] : ['--match', 'subject-dn'];
  const parsed = parseCertificate(new Uint8Array(client.cert.rawData));
  return {
    certPath,
    keyPath,
    subject: parsed.subjectRfc4514,
    sanDns,
    notAfter: client.cert.notAfter,
    x5tS256: parsed.x5t,
    clientAddArgs: ['client', 'add', '--id', name, '--from-cert', certPath, ...match, '--scope', DEMO_SCOPES.join(' '), '--resource', DEMO_RESOURCE],
  };
}
