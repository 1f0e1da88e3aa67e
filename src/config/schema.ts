/**
 * The configuration schema, with every default documented where it is defined (as oidc-provider does
 * in its defaults). Environment variables override the optional config file; see `load.ts`.
 */
import * as z from 'zod';

export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    return v;
  },
  z.boolean({ error: (issue) => (issue.code === 'invalid_type' ? 'must be true or false (1/0, yes/no and on/off are accepted too)' : undefined) }),
);
/** A whole-number setting; a value that is not one says what is expected (not zod's "received NaN"). */
const number = () => z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a whole number' : undefined) });
const port = number().int().min(0).max(65535);
const httpsUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith('https://'), 'must be an https:// URL')
  .refine((u) => !u.endsWith('/'), 'must not end with "/"')
  // certbound serves its endpoints at the root of each listener; a path prefix is not supported yet
  .refine((u) => {
    try {
      const url = new URL(u);
      return url.pathname === '/' && !url.search && !url.hash;
    } catch {
      return true;
    }
  }, 'must be an origin only (https://host[:port]) without a path, query or fragment');

// ---------------------------------------------------------------------------------------------------------------
// Behind a TLS-terminating reverse proxy (README "Deployment behind a reverse proxy"). Forwarding is off unless
// both trustedProxies and clientCertHeader are set; without them a forwarded-certificate header is ignored.

/** Formats of `clientCertHeader` (see src/forwarded): the proxy's encoding of the client certificate. */
export const PROXY_HEADER_FORMATS = ['rfc9440', 'nginx', 'xfcc', 'alb', 'alb-passthrough', 'traefik', 'base64'] as const;
export type ProxyHeaderFormat = (typeof PROXY_HEADER_FORMATS)[number];
export const PROXY_CHAIN_VALIDATION_MODES = ['proxy-verified', 'validate'] as const;

const PROXY_SETTINGS = {
  /**
   * Addresses or CIDR ranges of the proxies allowed to forward a client certificate, compared with the TCP
   * peer address only (never X-Forwarded-For). A comma/space-separated string or a list. Default: none.
   */
  trustedProxies: z.union([z.string(), z.array(z.string())]).optional(),
  /** `format[:Header-Name]`, e.g. `nginx` or `nginx:X-SSL-Client-Cert`; the header defaults per format. Default: none. */
  clientCertHeader: z.string().min(1).optional(),
  /**
   * Who validates a forwarded certificate's chain for tls_client_auth: `validate` (certbound, against its trust
   * anchors, with pkijs) or `proxy-verified` (the proxy did, and says so in `proxyVerifyHeader`). Default `validate`.
   */
  proxyChainValidation: z.enum(PROXY_CHAIN_VALIDATION_MODES).default('validate'),
  /** `Header-Name[:success value]` the proxy sets to its verification result. Default `X-SSL-Client-Verify:SUCCESS` (nginx `$ssl_client_verify`). */
  proxyVerifyHeader: z.string().min(1).default('X-SSL-Client-Verify:SUCCESS'),
  /** PEM file of intermediate CA certificates used to complete forwarded chains (nginx forwards the leaf only); never trusted by themselves. */
  proxyIntermediates: z.string().min(1).optional(),
};

export const configSchema = z
  .object({
    /** `development` generates a dev PKI and a demo client when TLS is not configured; `production` generates nothing. */
    env: z.enum(['development', 'production']).default('development'),
    /** Where the dev PKI and the SQLite file live. Default `./data`. */
    dataDir: z.string().min(1).default('./data'),
    /** `postgres://…` for PostgreSQL; anything else is a SQLite file path. Default `<dataDir>/certbound.sqlite`. */
    databaseUrl: z.string().min(1).optional(),
    /**
     * The longest one database operation may take, in ms: connecting, waiting for a pooled connection,
     * a statement (PostgreSQL statement_timeout and the client's own timeout), a lock held by another
     * process (SQLite busy_timeout). See docs/reliability.md. Default 2000.
     */
    databaseTimeoutMs: number().int().min(100).max(60_000).default(2000),
    /**
     * Token, introspection and revocation requests in progress at once; one more is refused at once with
     * 503 temporarily_unavailable (docs/reliability.md). Default 256.
     */
    maxPendingRequests: number().int().min(1).max(100_000).default(256),
    /** The issuer identifier (RFC 8414); every endpoint URL is derived from it. Default `https://localhost:8443`. */
    issuer: httpsUrl.optional(),
    /** Bind address of both listeners. Default `127.0.0.1`. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Main listener (discovery, JWKS, health): no client certificate requested. Default 8443. */
    port: port.default(8443),
    /** mTLS listener (token, introspection, revocation, registration). Default 8444. */
    mtlsPort: port.default(8444),
    /** Public base URL of the mTLS listener, used in `mtls_endpoint_aliases`. Default `https://localhost:<mtlsPort>`. */
    mtlsUrl: httpsUrl.optional(),
    /** Server certificate chain (PEM file). Required in production. */
    tlsCert: z.string().min(1).optional(),
    /** Server private key (PEM file). Required in production. */
    tlsKey: z.string().min(1).optional(),
    /** 32 bytes, base64 or hex: encrypts signing keys at rest (AES-256-GCM). Optional. */
    keyEncryptionKey: z.string().min(1).optional(),
    /** Signing algorithm for new keys. Default ES256. */
    signingAlg: z.enum(SIGNING_ALGORITHMS).default('ES256'),
    /** pino log level. Default `info`. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Run migrations when `serve` starts. Default true. */
    migrateOnStart: bool.default(true),
    /** How often the server looks for changed trust anchors and signing keys, in ms. Default 2000. */
    reloadIntervalMs: number().int().min(100).default(2000),
    /** How often expired adapter rows are purged, in ms. Default 600000 (10 min). */
    purgeIntervalMs: number().int().min(1000).default(600_000),
    /** Default access token lifetime for resource servers without their own, in seconds. Default 600. */
    accessTokenTtl: number().int().min(10).max(86_400).default(600),
    /**
     * What a CRL past its nextUpdate does (PKI-5): `fail-closed` refuses the certificates it covers; `fail-open`
     * takes the CRLs out of the TLS check and refuses only certificates a CRL lists. Default `fail-closed`.
     */
    crlStale: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
    /** How often each CRL source is read again, in ms (and, within this time of its nextUpdate, every minute). Default 3600000 (1 h). */
    crlRefreshIntervalMs: number().int().min(1000).default(3_600_000),
    /** Extra CA certificates (PEM file) trusted for outbound HTTPS: clients' jwks_uri (self-signed certificates, private_key_jwt keys), the upstream OpenID Provider. Default: Node's bundled CAs only. */
    outboundCaFile: z.string().min(1).optional(),
    /** A certificate or assertion kid missing from a client's jwks_uri set refetches it at most once per this many ms per client (SS-4). Default 30000. */
    jwksUriMinRefreshMs: number().int().min(100).default(30_000),
    /**
     * CIDR ranges (comma/space-separated, or a list) a client's jwks_uri may resolve to although they are not
     * public: loopback, private, link-local, unique-local, CGNAT, multicast, … are refused otherwise, at
     * registration and at every fetch (docs/jwks-uri-addresses.md). For development, tests, or a JWKS host
     * inside on purpose. Default: none.
     */
    jwksUriAllowedRanges: z.union([z.string(), z.array(z.string())]).optional(),
    /** Port of a separate admin listener (client certificate requested) serving only /admin. Default: unset, /admin is on the mTLS listener. */
    adminPort: port.optional(),
    /** Resource identifier of the admin API (the `aud` of admin tokens), registered at start. Default `<issuer>/admin`. */
    adminResource: httpsUrl.optional(),
    /** Serve Prometheus metrics at /metrics on the main listener (no authentication). Default true. */
    metrics: bool.default(true),
    ...PROXY_SETTINGS,
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;

/** The validated, frozen configuration passed down as a parameter (never imported as a global). */
export interface Config {
  readonly env: 'development' | 'production';
  readonly dataDir: string;
  /** `timeoutMs`: databaseTimeoutMs (absent: the default, store/unavailable.ts). */
  readonly database: ({ readonly client: 'sqlite'; readonly filename: string } | { readonly client: 'pg'; readonly url: string }) & { readonly timeoutMs?: number };
  readonly maxPendingRequests: number;
  readonly issuer: string;
  readonly host: string;
  readonly port: number;
  readonly mtlsPort: number;
  readonly mtlsUrl: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly keyEncryptionKey: Buffer | undefined;
  readonly signingAlg: SigningAlgorithm;
  readonly logLevel: string;
  readonly migrateOnStart: boolean;
  readonly reloadIntervalMs: number;
  readonly purgeIntervalMs: number;
  readonly accessTokenTtl: number;
  /** PKI-5: behaviour with a stale CRL. */
  readonly crlStale: 'fail-closed' | 'fail-open';
  readonly crlRefreshIntervalMs: number;
  /** Absolute path of the PEM file of extra CAs for outbound HTTPS (jwks_uri, the upstream OpenID Provider), when configured. */
  readonly outboundCaFile: string | undefined;
  readonly jwksUriMinRefreshMs: number;
  /** Non-public address ranges a jwks_uri may be fetched from (validated CIDR entries); empty: public addresses only. */
  readonly jwksUriAllowedRanges: readonly string[];
  /** Separate admin listener port; undefined: /admin is served on the mTLS listener. */
  readonly adminPort: number | undefined;
  /** The admin API's resource identifier. */
  readonly adminResource: string;
  /** /metrics on the main listener. */
  readonly metrics: boolean;
  /** Set when certbound runs behind a TLS-terminating proxy that forwards client certificates. */
  readonly proxy: ProxyConfig | undefined;
}

/** Client certificates forwarded by a trusted reverse proxy (validated, frozen). */
export interface ProxyConfig {
  readonly trustedProxies: readonly string[];
  readonly format: ProxyHeaderFormat;
  /** The header carrying the certificate. */
  readonly header: string;
  readonly chainValidation: (typeof PROXY_CHAIN_VALIDATION_MODES)[number];
  /** Used in `proxy-verified` mode: the header and the value that means "chain verified". */
  readonly verifyHeader: { readonly name: string; readonly success: string };
  /** Absolute path of the intermediates PEM file, when configured. */
  readonly intermediates: string | undefined;
}

/** Environment variable ↔ config key. */
export const ENV_VARS: Readonly<Record<string, keyof ConfigInput>> = {
  CERTBOUND_ENV: 'env',
  CERTBOUND_DATA_DIR: 'dataDir',
  CERTBOUND_DATABASE_URL: 'databaseUrl',
  CERTBOUND_DATABASE_TIMEOUT_MS: 'databaseTimeoutMs',
  CERTBOUND_MAX_PENDING_REQUESTS: 'maxPendingRequests',
  CERTBOUND_ISSUER: 'issuer',
  CERTBOUND_HOST: 'host',
  CERTBOUND_PORT: 'port',
  CERTBOUND_MTLS_PORT: 'mtlsPort',
  CERTBOUND_MTLS_URL: 'mtlsUrl',
  CERTBOUND_TLS_CERT: 'tlsCert',
  CERTBOUND_TLS_KEY: 'tlsKey',
  CERTBOUND_KEY_ENCRYPTION_KEY: 'keyEncryptionKey',
  CERTBOUND_SIGNING_ALG: 'signingAlg',
  CERTBOUND_LOG_LEVEL: 'logLevel',
  CERTBOUND_MIGRATE_ON_START: 'migrateOnStart',
  CERTBOUND_RELOAD_INTERVAL_MS: 'reloadIntervalMs',
  CERTBOUND_PURGE_INTERVAL_MS: 'purgeIntervalMs',
  CERTBOUND_ACCESS_TOKEN_TTL: 'accessTokenTtl',
  CERTBOUND_CRL_STALE: 'crlStale',
  CERTBOUND_CRL_REFRESH_INTERVAL_MS: 'crlRefreshIntervalMs',
  CERTBOUND_OUTBOUND_CA_FILE: 'outboundCaFile',
  CERTBOUND_JWKS_URI_MIN_REFRESH_MS: 'jwksUriMinRefreshMs',
  CERTBOUND_JWKS_URI_ALLOWED_RANGES: 'jwksUriAllowedRanges',
  CERTBOUND_ADMIN_PORT: 'adminPort',
  CERTBOUND_ADMIN_RESOURCE: 'adminResource',
  CERTBOUND_METRICS: 'metrics',
  // Behind a reverse proxy
  CERTBOUND_TRUSTED_PROXIES: 'trustedProxies',
  CERTBOUND_CLIENT_CERT_HEADER: 'clientCertHeader',
  CERTBOUND_PROXY_CHAIN_VALIDATION: 'proxyChainValidation',
  CERTBOUND_PROXY_VERIFY_HEADER: 'proxyVerifyHeader',
  CERTBOUND_PROXY_INTERMEDIATES: 'proxyIntermediates',
};
