import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { errorOf as errorOfAny } from '../helpers/errors.js';

function tmp(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-config-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const errorOf = (fn: () => unknown) => errorOfAny<ConfigError>(fn);

describe('loadConfig', () => {
  it('defaults: development, SQLite under ./data, issuer and mTLS URL from the ports', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      env: 'development',
      issuer: 'https://localhost:8443',
      mtlsUrl: 'https://localhost:8444',
      port: 8443,
      mtlsPort: 8444,
      host: '127.0.0.1',
      signingAlg: 'ES256',
    });
    expect(c.database).toEqual({ client: 'sqlite', filename: path.resolve('data/certbound.sqlite'), timeoutMs: 2000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('a postgres:// URL selects PostgreSQL', () => {
    expect(loadConfig({ env: { CERTBOUND_DATABASE_URL: 'postgres://u@h/db' } }).database).toEqual({ client: 'pg', url: 'postgres://u@h/db', timeoutMs: 2000 });
    // H15-9: the database timeout travels with the database settings; a value that is not a whole number of ms is refused.
    expect(loadConfig({ env: { CERTBOUND_DATABASE_URL: 'postgres://u@h/db', CERTBOUND_DATABASE_TIMEOUT_MS: '750' } }).database).toEqual({
      client: 'pg',
      url: 'postgres://u@h/db',
      timeoutMs: 750,
    });
    expect(() => loadConfig({ env: { CERTBOUND_DATABASE_TIMEOUT_MS: 'soon' } })).toThrow(/CERTBOUND_DATABASE_TIMEOUT_MS.*whole number/s);
  });

  it('environment variables override the file', () => {
    const file = tmp('c.yaml', 'port: 9000\nmtlsPort: 9001\nlogLevel: warn\n');
    const c = loadConfig({ env: { CERTBOUND_CONFIG: file, CERTBOUND_PORT: '9100' } });
    expect(c.port).toBe(9100);
    expect(c.mtlsPort).toBe(9001);
    expect(c.logLevel).toBe('warn');
    expect(c.issuer).toBe('https://localhost:9100');
  });

  it('a bad value names the variable, the value and what is expected', () => {
    const err = errorOf(() => loadConfig({ env: { CERTBOUND_PORT: 'eighty' } }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.message).toContain('environment variable CERTBOUND_PORT');
    expect(err.message).toContain('"eighty" is not valid: must be a whole number');
    expect(errorOf(() => loadConfig({ env: { CERTBOUND_PORT: '1.5' } })).message).toContain('"1.5" is not valid: must be a whole number');
    expect(errorOf(() => loadConfig({ env: { CERTBOUND_PORT: '70000' } })).message).toMatch(/"70000" is not valid: Too big: .*65535/);
  });

  it('a bad value in the file names the file and the key; unknown keys are refused', () => {
    const file = tmp('c.json', JSON.stringify({ issuer: 'http://insecure.example', colour: 'blue' }));
    const err = errorOf(() => loadConfig({ env: { CERTBOUND_CONFIG: file } }));
    expect(err.message).toContain(`${file} (key "issuer")`);
    expect(err.message).toContain('https://');
    expect(err.message).toContain('colour');
  });

  it('booleans: "false" means false', () => {
    expect(loadConfig({ env: { CERTBOUND_MIGRATE_ON_START: 'false' } }).migrateOnStart).toBe(false);
    expect(() => loadConfig({ env: { CERTBOUND_MIGRATE_ON_START: 'maybe' } })).toThrow(
      /CERTBOUND_MIGRATE_ON_START: "maybe" is not valid: must be true or false \(1\/0, yes\/no and on\/off are accepted too\)/,
    );
    expect(loadConfig({ env: { CERTBOUND_MIGRATE_ON_START: 'off' } }).migrateOnStart).toBe(false);
  });

  it('production requires TLS, issuer and mTLS URL, naming each missing variable', () => {
    const err = errorOf(() => loadConfig({ env: { CERTBOUND_ENV: 'production' } }));
    for (const v of ['CERTBOUND_TLS_CERT', 'CERTBOUND_TLS_KEY', 'CERTBOUND_ISSUER', 'CERTBOUND_MTLS_URL']) expect(err.message).toContain(v);
  });

  it('CERTBOUND_OUTBOUND_CA_FILE must be a readable PEM file with a certificate; CERTBOUND_JWKS_URI_MIN_REFRESH_MS at least 100', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-outbound-ca-'));
    writeFileSync(path.join(dir, 'empty.pem'), 'not a certificate');
    expect(() => loadConfig({ env: { CERTBOUND_OUTBOUND_CA_FILE: path.join(dir, 'missing.pem') } })).toThrow(
      /environment variable CERTBOUND_OUTBOUND_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/,
    );
    expect(() => loadConfig({ env: { CERTBOUND_OUTBOUND_CA_FILE: path.join(dir, 'empty.pem') } })).toThrow(/empty\.pem holds no PEM certificate/);
    expect(() => loadConfig({ env: { CERTBOUND_JWKS_URI_MIN_REFRESH_MS: '5' } })).toThrow(/CERTBOUND_JWKS_URI_MIN_REFRESH_MS/);
    writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(loadConfig({ env: { CERTBOUND_OUTBOUND_CA_FILE: path.join(dir, 'ca.pem') } }).outboundCaFile).toBe(path.join(dir, 'ca.pem'));
  });

  it('key-encryption key must be 32 bytes', () => {
    expect(() => loadConfig({ env: { CERTBOUND_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' } })).toThrow(/32 bytes/);
    expect(loadConfig({ env: { CERTBOUND_KEY_ENCRYPTION_KEY: 'ab'.repeat(32) } }).keyEncryptionKey?.length).toBe(32);
  });

  it('docs stay true: every CERTBOUND_* variable is in docs/configuration.md and the example config, and the example loads', () => {
    const readme = readFileSync('docs/configuration.md', 'utf8');
    const example = readFileSync('config/certbound.example.yaml', 'utf8');
    for (const name of Object.keys(ENV_VARS)) {
      expect(readme, name).toContain(name);
      expect(example, name).toContain(name);
    }
    expect(readme).toContain('CERTBOUND_CONFIG');
    const c = loadConfig({ env: { CERTBOUND_CONFIG: path.resolve('config/certbound.example.yaml') } });
    expect(c.issuer).toBe('https://localhost:8443');
  });
});

describe('issuer and mTLS URL', () => {
  it('a path, query or fragment is refused (endpoints are served at the root), naming the variable', () => {
    expect(() => loadConfig({ env: { CERTBOUND_ISSUER: 'https://as.example.com/oauth' } })).toThrow(/CERTBOUND_ISSUER.*origin only/s);
    expect(() => loadConfig({ env: { CERTBOUND_MTLS_URL: 'https://mtls.example.com?x=1' } })).toThrow(/CERTBOUND_MTLS_URL/);
    expect(loadConfig({ env: { CERTBOUND_ISSUER: 'https://as.example.com:9443' } }).issuer).toBe('https://as.example.com:9443');
  });
});
