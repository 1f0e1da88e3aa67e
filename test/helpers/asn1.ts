/**
 * Hand-crafted DER for certificates that well-behaved generators refuse to produce: TeletexString,
 * BMPString and UniversalString names, NUL bytes in a CN or SAN, invalid UTF-8, two SAN extensions,
 * oversized certificates, raw GeneralNames. The certificates are signed (ECDSA P-256) so that other
 * tools accept them as certificates, but nothing here is meant to chain to anything.
 */
import { generateKeyPairSync, sign } from 'node:crypto';

export type Bytes = Uint8Array;

function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: readonly Bytes[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** One TLV with a single-byte tag (enough for everything here). */
export function tlv(tag: number, ...contents: Bytes[]): Uint8Array {
  const body = concat(contents);
  return concat([Uint8Array.of(tag), length(body.length), body]);
}

function oidBytes(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return Uint8Array.from(out);
}

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** DER builders. String builders take text (encoded the natural way) or raw content bytes. */
export const der = {
  seq: (...items: Bytes[]) => tlv(0x30, ...items),
  set: (...items: Bytes[]) => tlv(0x31, ...items),
  oid: (dotted: string) => tlv(0x06, oidBytes(dotted)),
  int: (value: number | Bytes) => tlv(0x02, typeof value === 'number' ? Uint8Array.of(value) : value),
  bool: (value: boolean) => tlv(0x01, Uint8Array.of(value ? 0xff : 0)),
  octets: (bytes: Bytes) => tlv(0x04, bytes),
  bitString: (bytes: Bytes) => tlv(0x03, Uint8Array.of(0), bytes),
  utf8: (value: string | Bytes) => tlv(0x0c, typeof value === 'string' ? text(value) : value),
  printable: (value: string | Bytes) => tlv(0x13, typeof value === 'string' ? latin1(value) : value),
  t61: (value: string | Bytes) => tlv(0x14, typeof value === 'string' ? latin1(value) : value),
  ia5: (value: string | Bytes) => tlv(0x16, typeof value === 'string' ? latin1(value) : value),
  bmp: (value: string | Bytes) => tlv(0x1e, typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf16le').swap16()) : value),
  universal: (value: string | Bytes) =>
    tlv(
      0x1c,
      typeof value === 'string'
        ? Uint8Array.from(
            [...value].flatMap((ch) => {
              const cp = ch.codePointAt(0)!;
              return [(cp >>> 24) & 0xff, (cp >>> 16) & 0xff, (cp >>> 8) & 0xff, cp & 0xff];
            }),
          )
        : value,
    ),
  utcTime: (date: Date) => tlv(0x17, latin1(`${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`)),
  /** [n] EXPLICIT */
  explicit: (n: number, inner: Bytes) => tlv(0xa0 | n, inner),
  /** [n] IMPLICIT primitive */
  implicit: (n: number, content: Bytes) => tlv(0x80 | n, content),
};

export const OID = {
  CN: '2.5.4.3',
  C: '2.5.4.6',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  UID: '0.9.2342.19200300.100.1.1',
  serialNumber: '2.5.4.5',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

/** A Name from RDNs in ASN.1 order; each AVA is `[oid, DER of the value]`. */
export function name(rdns: ReadonlyArray<ReadonlyArray<readonly [string, Bytes]>>): Uint8Array {
  return der.seq(...rdns.map((rdn) => der.set(...rdn.map(([oid, value]) => der.seq(der.oid(oid), value)))));
}

/** GeneralName entries for a SAN; `raw` is any pre-encoded element (for malformed cases). */
export type GeneralNameSpec = { dns: string | Bytes } | { email: string | Bytes } | { uri: string | Bytes } | { ip: Bytes } | { raw: Bytes };

export function generalNames(entries: readonly GeneralNameSpec[]): Uint8Array {
  const encode = (v: string | Bytes) => (typeof v === 'string' ? latin1(v) : v);
  return der.seq(
    ...entries.map((e) => {
      if ('dns' in e) return der.implicit(2, encode(e.dns));
      if ('email' in e) return der.implicit(1, encode(e.email));
      if ('uri' in e) return der.implicit(6, encode(e.uri));
      if ('ip' in e) return der.implicit(7, e.ip);
      return e.raw;
    }),
  );
}

/** An Extension with the given DER value (wrapped in the OCTET STRING here). */
export function extension(oid: string, value: Bytes, critical = false): Uint8Array {
  return critical ? der.seq(der.oid(oid), der.bool(true), der.octets(value)) : der.seq(der.oid(oid), der.octets(value));
}

export function sanExtension(entries: readonly GeneralNameSpec[]): Uint8Array {
  return extension(OID.subjectAltName, generalNames(entries));
}

export function ekuExtension(oids: readonly string[]): Uint8Array {
  return extension(OID.extKeyUsage, der.seq(...oids.map(der.oid)));
}

let signer: ReturnType<typeof generateKeyPairSync> | undefined;
function key() {
  signer ??= generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return signer;
}

export interface CraftOptions {
  /** DER of the subject Name; default `CN=crafted`. */
  subject?: Bytes;
  /** DER of the issuer Name; default `CN=Crafted CA`. */
  issuer?: Bytes;
  /** Complete Extension elements (see {@link extension}); none → no extensions field. */
  extensions?: Bytes[];
  serial?: Bytes;
  notBefore?: Date;
  notAfter?: Date;
}

export interface Crafted {
  der: Buffer;
  pem: string;
  /** DER of the SubjectPublicKeyInfo. */
  spki: Buffer;
}

/** A v3 certificate built byte by byte and signed with a throwaway P-256 key. */
export function craftCertificate(options: CraftOptions = {}): Crafted {
  const { publicKey, privateKey } = key();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const algorithm = der.seq(der.oid(OID.ecdsaWithSha256));
  const tbs = der.seq(
    der.explicit(0, der.int(2)),
    der.int(options.serial ?? Uint8Array.of(0x01, 0x23)),
    algorithm,
    options.issuer ?? name([[[OID.CN, der.utf8('Crafted CA')]]]),
    der.seq(der.utcTime(options.notBefore ?? new Date(now - 86_400_000)), der.utcTime(options.notAfter ?? new Date(now + 86_400_000))),
    options.subject ?? name([[[OID.CN, der.utf8('crafted')]]]),
    spki,
    ...(options.extensions?.length ? [der.explicit(3, der.seq(...options.extensions))] : []),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = Buffer.from(der.seq(tbs, algorithm, der.bitString(signature)));
  return { der: certificate, pem: toPem(certificate), spki };
}

/** PEM with the usual 64-column lines (or another width). */
export function toPem(bytes: Bytes, width = 64): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
