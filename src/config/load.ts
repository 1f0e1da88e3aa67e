import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type YAML from 'yaml';
import { ConfigError } from '../errors/index.js';
import { DEFAULT_FORWARDED_HEADERS } from '../forwarded/extract.js';
import { createProxyTrust } from '../forwarded/proxy-trust.js';
import { type Config, type ConfigInput, configSchema, ENV_VARS, PROXY_HEADER_FORMATS, type ProxyConfig, type ProxyHeaderFormat } from './schema.js';

export interface LoadConfigOptions {
  /** Usually `process.env`; only main.ts and cli/ pass it. */
  env: Readonly<Record<string, string | undefined>>;
  /** Overrides applied last (CLI flags, tests). */
  overrides?: Partial<ConfigInput>;
}

// The YAML parser is loaded only when the config file is YAML (about 1 MB of heap otherwise kept for nothing).
const requireYaml = (): typeof YAML => createRequire(import.meta.url)('yaml') as typeof YAML;

const keyToEnv = Object.fromEntries(Object.entries(ENV_VARS).map(([envName, key]) => [key, envName])) as Record<string, string>;

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`CERTBOUND_CONFIG: cannot read the config file ${file}`, { cause, hint: 'Check the path and permissions, or unset CERTBOUND_CONFIG.' });
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? requireYaml().parse(text) : JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(cause as Error).message}`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${file}: the top level must be an object of settings`, { hint: 'See config/certbound.example.yaml.' });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Loads configuration once: the optional file named by CERTBOUND_CONFIG, then CERTBOUND_* environment
 * variables, then overrides; validates; fills derived defaults; freezes. A bad value throws a
 * ConfigError that names the key, where it came from, the value, and what is expected.
 */
export function loadConfig({ env, overrides = {} }: LoadConfigOptions): Config {
  const sources: Record<string, string> = {};
  const raw: Record<string, unknown> = {};
  const file = env.CERTBOUND_CONFIG;
  if (file) {
    for (const [k, v] of Object.entries(readConfigFile(file))) {
      raw[k] = v;
      sources[k] = `${file} (key "${k}")`;
    }
  }
  for (const [envName, key] of Object.entries(ENV_VARS)) {
    const v = env[envName];
    if (v !== undefined && v !== '') {
      raw[key] = v;
      sources[key] = `environment variable ${envName}`;
    }
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) {
      raw[k] = v;
      sources[k] = `option ${k}`;
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      if (issue.code === 'unrecognized_keys') {
        return `${file ?? 'config'}: unknown setting(s) ${issue.keys.join(', ')}; known settings: ${Object.keys(keyToEnv).join(', ')}`;
      }
      const where = sources[key] ?? key;
      const value = raw[key];
      return `${where}: ${JSON.stringify(value)} is not valid: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`, { details: { issues: lines } });
  }
  const c = result.data;
  const issuer = c.issuer ?? `https://localhost:${c.port}`;
  const mtlsUrl = c.mtlsUrl ?? `https://localhost:${c.mtlsPort}`;
  const dataDir = path.resolve(c.dataDir);
  const database =
    c.databaseUrl && /^postgres(ql)?:\/\//.test(c.databaseUrl)
      ? ({ client: 'pg', url: c.databaseUrl, timeoutMs: c.databaseTimeoutMs } as const)
      : ({ client: 'sqlite', filename: c.databaseUrl ? path.resolve(c.databaseUrl) : path.join(dataDir, 'certbound.sqlite'), timeoutMs: c.databaseTimeoutMs } as const);

  let keyEncryptionKey: Buffer | undefined;
  if (c.keyEncryptionKey) {
    const v = c.keyEncryptionKey.trim();
    keyEncryptionKey = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
    if (keyEncryptionKey.length !== 32) {
      throw new ConfigError(`${sources.keyEncryptionKey}: must be 32 bytes as 64 hex characters or base64 (got ${keyEncryptionKey.length} bytes)`, {
        hint: 'Generate one with: openssl rand -base64 32',
      });
    }
  }

  if (c.env === 'production') {
    const missing: string[] = [];
    if (!c.tlsCert) missing.push('CERTBOUND_TLS_CERT');
    if (!c.tlsKey) missing.push('CERTBOUND_TLS_KEY');
    if (!c.issuer) missing.push('CERTBOUND_ISSUER');
    if (!c.mtlsUrl) missing.push('CERTBOUND_MTLS_URL');
    if (missing.length) {
      throw new ConfigError(`Production mode (CERTBOUND_ENV=production) needs ${missing.join(', ')}; nothing is generated automatically in production.`, {
        hint: 'Set them in the environment or in the file named by CERTBOUND_CONFIG.',
      });
    }
  }
  if (c.adminPort !== undefined && c.adminPort !== 0 && (c.adminPort === c.port || c.adminPort === c.mtlsPort)) {
    throw new ConfigError(
      `${sources.adminPort}: ${c.adminPort} is already the ${c.adminPort === c.port ? 'main (CERTBOUND_PORT)' : 'mTLS (CERTBOUND_MTLS_PORT)'} listener's port.`,
      {
        hint: 'Pick a port of its own for the admin listener, or unset CERTBOUND_ADMIN_PORT to serve /admin on the mTLS listener.',
      },
    );
  }
  if ((c.tlsCert && !c.tlsKey) || (!c.tlsCert && c.tlsKey)) {
    throw new ConfigError('CERTBOUND_TLS_CERT and CERTBOUND_TLS_KEY must be set together.');
  }
  if (c.outboundCaFile) {
    let pem: string;
    try {
      pem = readFileSync(path.resolve(c.outboundCaFile), 'utf8');
    } catch (cause) {
      throw new ConfigError(`${sources.outboundCaFile ?? 'outboundCaFile'}: cannot read ${c.outboundCaFile} (${(cause as NodeJS.ErrnoException).code ?? 'error'}).`, {
        hint: 'Give a PEM file with the CA certificates to trust for jwks_uri fetches.',
      });
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(`${sources.outboundCaFile ?? 'outboundCaFile'}: ${c.outboundCaFile} holds no PEM certificate.`, {
        hint: 'Give a PEM file with the CA certificates to trust for jwks_uri fetches.',
      });
    }
  }

  return Object.freeze({
    env: c.env,
    dataDir,
    database: Object.freeze(database),
    maxPendingRequests: c.maxPendingRequests,
    issuer,
    host: c.host,
    port: c.port,
    mtlsPort: c.mtlsPort,
    mtlsUrl,
    tlsCert: c.tlsCert ? path.resolve(c.tlsCert) : undefined,
    tlsKey: c.tlsKey ? path.resolve(c.tlsKey) : undefined,
    keyEncryptionKey,
    signingAlg: c.signingAlg,
    logLevel: c.logLevel,
    migrateOnStart: c.migrateOnStart,
    reloadIntervalMs: c.reloadIntervalMs,
    purgeIntervalMs: c.purgeIntervalMs,
    accessTokenTtl: c.accessTokenTtl,
    crlStale: c.crlStale,
    crlRefreshIntervalMs: c.crlRefreshIntervalMs,
    outboundCaFile: c.outboundCaFile ? path.resolve(c.outboundCaFile) : undefined,
    jwksUriMinRefreshMs: c.jwksUriMinRefreshMs,
    jwksUriAllowedRanges: checkJwksUriAllowedRanges(c, sources),
    adminPort: c.adminPort,
    adminResource: c.adminResource ?? `${issuer}/admin`,
    metrics: c.metrics,
    proxy: checkProxy(c, sources),
  });
}

/** CERTBOUND_JWKS_URI_ALLOWED_RANGES: CIDR entries, by the same rules as CERTBOUND_TRUSTED_PROXIES. */
function checkJwksUriAllowedRanges(c: ReturnType<typeof configSchema.parse>, sources: Record<string, string>): readonly string[] {
  const ranges = (Array.isArray(c.jwksUriAllowedRanges) ? c.jwksUriAllowedRanges : (c.jwksUriAllowedRanges ?? '').split(/[\s,]+/)).map((r) => r.trim()).filter(Boolean);
  const where = sources.jwksUriAllowedRanges?.includes('CERTBOUND_JWKS_URI_ALLOWED_RANGES')
    ? sources.jwksUriAllowedRanges
    : `${sources.jwksUriAllowedRanges ?? 'jwksUriAllowedRanges'} (CERTBOUND_JWKS_URI_ALLOWED_RANGES)`;
  try {
    createProxyTrust(ranges, where);
  } catch (cause) {
    throw new ConfigError((cause as Error).message, {
      cause,
      hint: 'List the IPv4/IPv6 CIDR ranges a jwks_uri may resolve to although they are not public, separated by commas, e.g. 127.0.0.0/8,::1/128 for a JWKS served on this host in development.',
    });
  }
  return Object.freeze(ranges);
}

// ---------------------------------------------------------------------------------------------------------------
// Behind a TLS-terminating reverse proxy

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Forwarding settings: both CERTBOUND_TRUSTED_PROXIES and CERTBOUND_CLIENT_CERT_HEADER, or neither. */
function checkProxy(c: ReturnType<typeof configSchema.parse>, sources: Record<string, string>): ProxyConfig | undefined {
  const where = (key: string, fallback: string) => sources[key] ?? fallback;
  const proxies = (Array.isArray(c.trustedProxies) ? c.trustedProxies : (c.trustedProxies ?? '').split(/[\s,]+/)).map((p) => p.trim()).filter(Boolean);
  if (!proxies.length && !c.clientCertHeader) {
    for (const key of ['proxyIntermediates', 'proxyChainValidation', 'proxyVerifyHeader']) {
      if (sources[key]) {
        throw new ConfigError(`${sources[key]}: only applies behind a proxy, but CERTBOUND_TRUSTED_PROXIES and CERTBOUND_CLIENT_CERT_HEADER are not set.`, {
          hint: 'Set both to accept client certificates forwarded by a reverse proxy, or remove this setting.',
        });
      }
    }
    return undefined;
  }
  if (!proxies.length || !c.clientCertHeader) {
    throw new ConfigError('CERTBOUND_TRUSTED_PROXIES and CERTBOUND_CLIENT_CERT_HEADER must be set together (a forwarded certificate is accepted only from a trusted proxy).', {
      hint: 'e.g. CERTBOUND_TRUSTED_PROXIES=10.0.0.5/32 CERTBOUND_CLIENT_CERT_HEADER=nginx',
    });
  }
  try {
    createProxyTrust(proxies);
  } catch (cause) {
    throw new ConfigError(`${where('trustedProxies', 'CERTBOUND_TRUSTED_PROXIES')}: ${(cause as Error).message}`, {
      cause,
      hint: 'List IPv4/IPv6 addresses or CIDR ranges, separated by commas.',
    });
  }
  const [formatText = '', ...rest] = c.clientCertHeader.split(':');
  const format = formatText.trim() as ProxyHeaderFormat;
  const headerText = rest.join(':').trim();
  if (!PROXY_HEADER_FORMATS.includes(format) || rest.length > 1 || (rest.length === 1 && !HEADER_NAME.test(headerText))) {
    throw new ConfigError(
      `${where('clientCertHeader', 'CERTBOUND_CLIENT_CERT_HEADER')}: ${JSON.stringify(c.clientCertHeader)} is not valid: expected FORMAT or FORMAT:Header-Name with FORMAT one of ${PROXY_HEADER_FORMATS.join(', ')}.`,
      {
        hint: 'e.g. nginx, nginx:X-SSL-Client-Cert, rfc9440, xfcc, alb, traefik',
      },
    );
  }
  const [verifyName = '', ...verifyRest] = c.proxyVerifyHeader.split(':');
  const success = verifyRest.length ? verifyRest.join(':').trim() : 'SUCCESS';
  if (!HEADER_NAME.test(verifyName.trim()) || !success) {
    throw new ConfigError(
      `${where('proxyVerifyHeader', 'CERTBOUND_PROXY_VERIFY_HEADER')}: ${JSON.stringify(c.proxyVerifyHeader)} is not valid: expected Header-Name or Header-Name:VALUE.`,
      {
        hint: 'e.g. X-SSL-Client-Verify:SUCCESS (nginx $ssl_client_verify)',
      },
    );
  }
  return Object.freeze({
    trustedProxies: Object.freeze(proxies),
    format,
    header: headerText || DEFAULT_FORWARDED_HEADERS[format],
    chainValidation: c.proxyChainValidation,
    verifyHeader: Object.freeze({ name: verifyName.trim(), success }),
    intermediates: c.proxyIntermediates ? path.resolve(c.proxyIntermediates) : undefined,
  });
}
