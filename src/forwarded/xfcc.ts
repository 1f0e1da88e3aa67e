import { createHash } from 'node:crypto';
import { ForwardedCertificateError } from './errors.js';
import { checkLength, parsePemCertificates, parseSinglePem, percentDecode } from './lib/der.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import type { ForwardedCertificate } from './types.js';

/** Splits `input` on `separator` outside double quotes; `\"` and `\\` inside quotes are escapes. */
function splitOutsideQuotes(input: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (quoted && ch === '\\') {
      const next = input[i + 1];
      if (next === undefined) break;
      current += ch + next;
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (quoted) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert has an unbalanced quote');
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) {
    if (value.includes('"')) throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert has a stray quote');
    return value;
  }
  if (value.length < 2 || !value.endsWith('"')) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert has an unbalanced quote');
  }
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** The key/value pairs of one XFCC element; keys lowercased (case-insensitive), values unquoted. */
export function parseXfccElement(element: string): Array<[key: string, value: string]> {
  return splitOutsideQuotes(element, ';').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert has a pair without "key="');
    return [pair.slice(0, eq).trim().toLowerCase(), unquote(pair.slice(eq + 1).trim())];
  });
}

/**
 * Parses Envoy `x-forwarded-client-cert`. Strict: exactly one element (the edge proxy must run
 * `SANITIZE_SET`), exactly one `Cert` (URL-encoded PEM), at most one `Hash` which, if present, must be
 * the hex SHA-256 of that certificate's DER, and at most one `Chain` (URL-encoded PEM, leaf first) whose
 * first certificate must be the `Cert`. `By`, `Subject`, `URI`, `DNS` are ignored: never match on them.
 *
 * @example
 * const { der } = parseXfcc('Hash=bfaf1f7e…69eb;Cert="-----BEGIN%20CERTIFICATE-----%0AMIIB…";Subject="CN=BC"');
 */
export function parseXfcc(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'x-forwarded-client-cert');
  const elements = splitOutsideQuotes(value, ',');
  if (elements.length !== 1) {
    throw new ForwardedCertificateError('ERR_FORWARDED_DUPLICATE', `x-forwarded-client-cert holds ${elements.length} elements; exactly one is accepted`, {
      hint: 'configure the edge Envoy with forward_client_cert_details: SANITIZE_SET',
    });
  }
  const pairs = parseXfccElement(elements[0]!);
  const only = (key: string): string | undefined => {
    const values = pairs.filter(([k]) => k === key).map(([, v]) => v);
    if (values.length > 1) throw new ForwardedCertificateError('ERR_FORWARDED_DUPLICATE', `x-forwarded-client-cert repeats "${key}"`);
    return values[0];
  };
  const cert = only('cert');
  const hash = only('hash');
  const chainValue = only('chain');
  if (cert === undefined)
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert has no Cert', {
      hint: 'set set_current_client_cert_details.cert: true on the edge Envoy',
    });
  const der = parseSinglePem(percentDecode(cert, 'x-forwarded-client-cert Cert'), resolved, 'x-forwarded-client-cert Cert');
  if (hash !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert Hash is not hex SHA-256');
    if (createHash('sha256').update(der).digest('hex') !== hash.toLowerCase()) {
      throw new ForwardedCertificateError('ERR_FORWARDED_HASH_MISMATCH', 'x-forwarded-client-cert Hash does not match its Cert');
    }
  }
  let chain: Buffer[] = [];
  if (chainValue !== undefined) {
    const ders = parsePemCertificates(percentDecode(chainValue, 'x-forwarded-client-cert Chain'), resolved, 'x-forwarded-client-cert Chain');
    if (!ders[0]?.equals(der)) {
      throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'x-forwarded-client-cert Chain does not start with its Cert');
    }
    chain = ders.slice(1);
  }
  return { der, chain };
}
