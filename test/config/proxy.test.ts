/** The "behind a reverse proxy" block of the configuration (README "Deployment behind a reverse proxy"). */
import { describe, expect, it } from 'vitest';
import { loadConfig, PROXY_HEADER_FORMATS } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { errorOf as errorOfAny } from '../helpers/errors.js';
import { DEFAULT_FORWARDED_HEADERS } from '../../src/forwarded/index.js';

const errorOf = (fn: () => unknown) => errorOfAny<ConfigError>(fn);

describe('CERTBOUND_TRUSTED_PROXIES / CERTBOUND_CLIENT_CERT_HEADER', () => {
  it('T-1: off by default: no proxy configuration at all', () => {
    expect(loadConfig({ env: {} }).proxy).toBeUndefined();
  });

  it('format → default header; CIDR list split on commas and spaces; validate is the default mode', () => {
    const c = loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.5/32, 10.0.1.0/24 ::1', CERTBOUND_CLIENT_CERT_HEADER: 'nginx' } });
    expect(c.proxy).toEqual({
      trustedProxies: ['10.0.0.5/32', '10.0.1.0/24', '::1'],
      format: 'nginx',
      header: 'X-SSL-Client-Cert',
      chainValidation: 'validate',
      verifyHeader: { name: 'X-SSL-Client-Verify', success: 'SUCCESS' },
      intermediates: undefined,
    });
    expect(Object.isFrozen(c.proxy)).toBe(true);
  });

  it('FORMAT:Header-Name, proxy-verified with a custom verify header and value, intermediates path resolved', () => {
    const c = loadConfig({
      env: {
        CERTBOUND_TRUSTED_PROXIES: '127.0.0.2',
        CERTBOUND_CLIENT_CERT_HEADER: 'base64:X-Client-Cert',
        CERTBOUND_PROXY_CHAIN_VALIDATION: 'proxy-verified',
        CERTBOUND_PROXY_VERIFY_HEADER: 'X-SSL-Client-Verify:0',
        CERTBOUND_PROXY_INTERMEDIATES: 'pki/intermediates.pem',
      },
    });
    expect(c.proxy).toMatchObject({ format: 'base64', header: 'X-Client-Cert', chainValidation: 'proxy-verified', verifyHeader: { name: 'X-SSL-Client-Verify', success: '0' } });
    expect(c.proxy?.intermediates).toMatch(/^\/.*pki\/intermediates\.pem$/);
  });

  it('every format the forwarded parsers know can be configured, with its default header', () => {
    expect([...PROXY_HEADER_FORMATS].sort()).toEqual(Object.keys(DEFAULT_FORWARDED_HEADERS).sort());
    for (const format of PROXY_HEADER_FORMATS) {
      expect(loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.1', CERTBOUND_CLIENT_CERT_HEADER: format } }).proxy?.header).toBe(DEFAULT_FORWARDED_HEADERS[format]);
    }
  });

  it('SC-4: one without the other is refused (a header without a trusted proxy list would be a forgery channel)', () => {
    for (const env of [{ CERTBOUND_TRUSTED_PROXIES: '10.0.0.1' }, { CERTBOUND_CLIENT_CERT_HEADER: 'nginx' }]) {
      const err = errorOf(() => loadConfig({ env }));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.code).toBe('ERR_CONFIG_INVALID');
      expect(err.message).toContain('CERTBOUND_TRUSTED_PROXIES and CERTBOUND_CLIENT_CERT_HEADER must be set together');
    }
  });

  it('bad values name the variable and say what is expected', () => {
    expect(errorOf(() => loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.0/33', CERTBOUND_CLIENT_CERT_HEADER: 'nginx' } })).message).toMatch(
      /environment variable CERTBOUND_TRUSTED_PROXIES: .*10\.0\.0\.0\/33/,
    );
    expect(errorOf(() => loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: 'proxy.internal', CERTBOUND_CLIENT_CERT_HEADER: 'nginx' } })).message).toContain(
      'CERTBOUND_TRUSTED_PROXIES',
    );
    const format = errorOf(() => loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.1', CERTBOUND_CLIENT_CERT_HEADER: 'apache' } }));
    expect(format.message).toContain('environment variable CERTBOUND_CLIENT_CERT_HEADER');
    expect(format.message).toContain('rfc9440, nginx, xfcc');
    expect(errorOf(() => loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.1', CERTBOUND_CLIENT_CERT_HEADER: 'nginx:X SSL' } })).message).toContain(
      'CERTBOUND_CLIENT_CERT_HEADER',
    );
    expect(
      errorOf(() => loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.1', CERTBOUND_CLIENT_CERT_HEADER: 'nginx', CERTBOUND_PROXY_CHAIN_VALIDATION: 'trust-me' } })).message,
    ).toContain('CERTBOUND_PROXY_CHAIN_VALIDATION');
    expect(
      errorOf(() => loadConfig({ env: { CERTBOUND_TRUSTED_PROXIES: '10.0.0.1', CERTBOUND_CLIENT_CERT_HEADER: 'nginx', CERTBOUND_PROXY_VERIFY_HEADER: 'bad header:SUCCESS' } }))
        .message,
    ).toContain('CERTBOUND_PROXY_VERIFY_HEADER');
  });

  it('proxy-only settings without forwarding are a mistake, not silently ignored', () => {
    const err = errorOf(() => loadConfig({ env: { CERTBOUND_PROXY_INTERMEDIATES: '/etc/certbound/intermediates.pem' } }));
    expect(err.message).toContain('CERTBOUND_PROXY_INTERMEDIATES');
    expect(err.message).toContain('only applies behind a proxy');
  });

  it('the file form accepts a YAML list of proxies', () => {
    const c = loadConfig({ env: {}, overrides: { trustedProxies: ['10.0.0.5', '10.0.0.6'], clientCertHeader: 'xfcc' } });
    expect(c.proxy).toMatchObject({ trustedProxies: ['10.0.0.5', '10.0.0.6'], header: 'X-Forwarded-Client-Cert' });
  });
});
