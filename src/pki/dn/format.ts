/** DistinguishedNames as text: RFC 4514 (parsed back by parse.ts) and OpenSSL's oneline form, for display. */
import { toHex } from '../der.js';
import { attributeTypeByOid, attributeTypeName, type Ava, type DistinguishedName } from './attributes.js';

/** Escapes an attribute value for RFC 4514 (§2.4), and control characters as `\hh` for safety. */
export function escapeRfc4514Value(value: string): string {
  let out = '';
  const last = value.length - 1;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const code = c.charCodeAt(0);
    if ('\\"+,;<>'.includes(c) || ((c === ' ' || c === '#') && i === 0) || (c === ' ' && i === last)) {
      out += `\\${c}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += c;
    }
  }
  return out;
}

function formatAva(ava: Ava): string {
  const known = attributeTypeByOid(ava.type);
  // RFC 4514 §2.4: values of types without a keyword are written as #hex of their BER when we have it.
  if (ava.value === undefined || (!known && ava.raw)) {
    return `${ava.type}=#${toHex(ava.raw ?? new Uint8Array(0))}`;
  }
  return `${known?.names[0] ?? ava.type}=${escapeRfc4514Value(ava.value)}`;
}

/** RFC 4514 string: last RDN first, keywords where known, proper escaping. Round-trips through parseRfc4514. */
export function formatRfc4514(dn: DistinguishedName): string {
  return [...dn]
    .reverse()
    .map((rdn) => rdn.map(formatAva).join('+'))
    .join(',');
}

/** OpenSSL oneline style (`/C=US/O=Acme/CN=x`, certificate order), for display only: never parse it back. */
export function formatOneline(dn: DistinguishedName): string {
  return dn
    .map(
      (rdn) =>
        `/${rdn
          .map((ava) => {
            const value = ava.value === undefined ? `#${toHex(ava.raw ?? new Uint8Array(0))}` : ava.value.replace(/[\\/+]/g, (c) => `\\${c}`);
            return `${attributeTypeName(ava.type)}=${value}`;
          })
          .join('+')}`,
    )
    .join('');
}
