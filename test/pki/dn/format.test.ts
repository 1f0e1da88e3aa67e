/** formatRfc4514 and formatOneline (src/pki/dn/format.ts). */
import { describe, expect, it } from 'vitest';
import { formatOneline, formatRfc4514, parseRfc4514 } from '../../../src/pki/index.js';

describe('formatting', () => {
  it('formatRfc4514 writes the last RDN first with keywords and escapes, and round-trips', () => {
    const dn = parseRfc4514('CN=\\ a\\,b+UID=x\\+y,O=Acme\\, Inc.,OU=\\#1,C=US,1.2.3.4=#04020102,serialNumber=trail\\ ');
    const text = formatRfc4514(dn);
    expect(text).toBe('CN=\\ a\\,b+UID=x\\+y,O=Acme\\, Inc.,OU=\\#1,C=US,1.2.3.4=#04020102,serialNumber=trail\\ ');
    expect(parseRfc4514(text)).toEqual(dn);
  });

  it('formatOneline prints certificate order, for display', () => {
    expect(formatOneline(parseRfc4514('CN=x+UID=y,O=Acme,C=US'))).toBe('/C=US/O=Acme/CN=x+UID=y');
  });
});
