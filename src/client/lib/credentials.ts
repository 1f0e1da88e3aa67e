import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { x5tS256 } from '../../pki/thumbprint.js';
import { CertboundClientError } from '../errors.js';

/** Where the client certificate comes from: files (watched for rotation) or PEM text. */
export type Credentials =
  | {
      /** PEM file: the client certificate first, then any intermediates the server needs to build the chain. */
      certFile: string;
      /** PEM file with the private key of that certificate (PKCS#8, PKCS#1 or SEC1). */
      keyFile: string;
    }
  | {
      /** PEM: the client certificate first, then any intermediates. */
      cert: string | Buffer;
      /** PEM private key of the certificate. */
      key: string | Buffer;
    };

/** A certificate and key that were read, parsed and found to belong together. */
export interface LoadedCredentials {
  /** The PEM chain as given (leaf first), presented in the TLS handshake. */
  certPem: string;
  keyPem: string;
  /** RFC 8705 §3.1 `x5t#S256` of the leaf: what a bound token's `cnf` must name. */
  thumbprint: string;
  notAfter: Date;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CertboundClientError('CERTIFICATE_UNREADABLE', `cannot read the ${what} file ${file}: ${(err as Error).message}`, {
      hint: `Check the path and that this process may read it.`,
      cause: err,
    });
  }
}

/**
 * Reads and checks a certificate and its key: the first PEM certificate is the leaf (its thumbprint is
 * what tokens are bound to), and the key must be the leaf's, since otherwise the handshake would fail
 * later with a far less helpful TLS alert.
 */
export function loadCredentials(credentials: Credentials): LoadedCredentials {
  const fromFiles = 'certFile' in credentials;
  const certSource = fromFiles ? `certificate file ${credentials.certFile}` : 'certificate (credentials.cert)';
  const keySource = fromFiles ? `key file ${credentials.keyFile}` : 'key (credentials.key)';
  const certPem = fromFiles ? readText(credentials.certFile, 'certificate') : String(credentials.cert);
  const keyPem = fromFiles ? readText(credentials.keyFile, 'key') : String(credentials.key);
  const blocks = certPem.match(PEM_CERTIFICATE);
  if (!blocks) {
    throw new CertboundClientError('CERTIFICATE_UNREADABLE', `the ${certSource} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, {
      hint: 'Give the client certificate in PEM, the leaf first, followed by any intermediates.',
    });
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(blocks[0]!);
  } catch (err) {
    throw new CertboundClientError('CERTIFICATE_UNREADABLE', `the first certificate in the ${certSource} cannot be parsed: ${(err as Error).message}`, {
      hint: 'The file may be truncated or corrupted; write the certificate again (PEM, the leaf first).',
      cause: err,
    });
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new CertboundClientError('CERTIFICATE_UNREADABLE', `the ${keySource} holds no readable private key: ${(err as Error).message}`, {
      hint: 'Give an unencrypted PEM private key (PKCS#8 "BEGIN PRIVATE KEY", PKCS#1 or SEC1).',
      cause: err,
    });
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new CertboundClientError('KEY_MISMATCH', `the ${keySource} does not belong to the certificate ${leaf.subject.replace(/\n/g, ', ')} in the ${certSource}`, {
      hint: 'Give the key that was generated with this certificate; during a rotation, write the new certificate and its key together.',
    });
  }
  return { certPem, keyPem, thumbprint: x5tS256(leaf.raw), notAfter: new Date(leaf.validTo) };
}
