/** H15-5: CERTBOUND_JWKS_URI_ALLOWED_RANGES, the non-public ranges a client's jwks_uri may be fetched from. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { errorOf as errorOfAny } from '../helpers/errors.js';

const errorOf = (fn: () => unknown) => errorOfAny<ConfigError>(fn);

describe('CERTBOUND_JWKS_URI_ALLOWED_RANGES', () => {
  it('H15-5: none by default: public addresses only', () => {
    expect(loadConfig({ env: {} }).jwksUriAllowedRanges).toEqual([]);
  });

  it('H15-5: a comma/space-separated CIDR list (IPv4 and IPv6), frozen; a file may give a list', () => {
    const c = loadConfig({ env: { CERTBOUND_JWKS_URI_ALLOWED_RANGES: '127.0.0.0/8, ::1/128 10.20.0.0/16' } });
    expect(c.jwksUriAllowedRanges).toEqual(['127.0.0.0/8', '::1/128', '10.20.0.0/16']);
    expect(Object.isFrozen(c.jwksUriAllowedRanges)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-ranges-'));
    writeFileSync(path.join(dir, 'c.yaml'), 'jwksUriAllowedRanges:\n  - 192.168.10.0/24\n');
    expect(loadConfig({ env: { CERTBOUND_CONFIG: path.join(dir, 'c.yaml') } }).jwksUriAllowedRanges).toEqual(['192.168.10.0/24']);
  });

  it('H15-5: an entry that is not an address or CIDR is refused with the variable, the entry and an example', () => {
    const bad = errorOf(() => loadConfig({ env: { CERTBOUND_JWKS_URI_ALLOWED_RANGES: '127.0.0.0/8,localhost' } }));
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.message).toBe('environment variable CERTBOUND_JWKS_URI_ALLOWED_RANGES: "localhost" is not an IPv4/IPv6 address or CIDR');
    expect(bad.hint).toContain('e.g. 127.0.0.0/8,::1/128');
    const prefix = errorOf(() => loadConfig({ env: {}, overrides: { jwksUriAllowedRanges: ['10.0.0.0/33'] } }));
    expect(prefix.message).toBe('option jwksUriAllowedRanges (CERTBOUND_JWKS_URI_ALLOWED_RANGES): "10.0.0.0/33" has an invalid prefix length');
  });
});
