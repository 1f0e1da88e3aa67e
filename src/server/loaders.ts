/**
 * What the server loads on first use, decided here and nowhere else in src/server (nor in main.ts).
 *
 * A server that only issues tokens keeps none of these in memory (docs/performance.md, peak memory;
 * docs/decisions/001-knex-off-the-hot-path.md). Each loader is a dynamic import, which the server
 * bundle (scripts/build-server.mjs) turns into a chunk of its own; a module loaded twice is loaded once.
 *
 * | loader         | loaded when                                                              | by                          |
 * | -------------- | ------------------------------------------------------------------------ | --------------------------- |
 * | `knex`         | a start that migrates, development mode, the first admin use case        | main.ts                     |
 * | `adminService` | development mode (first key, dev PKI), the first admin write             | main.ts, admin-wiring.ts    |
 * | `adminApi`     | the first request under /admin                                           | admin-wiring.ts             |
 * | `diagnosis`    | the first refusal (its log line), the first /admin request               | auth-observer.ts, admin-wiring.ts |
 * | `jwksUri`      | the first request of a client that publishes its keys at a jwks_uri      | jwks-uris.ts                |
 * | `devPki`       | a development start without CERTBOUND_TLS_CERT/KEY                       | bootstrap.ts                |
 * | `registrations`| the first request to the registration endpoint (RFC 7591/7592)           | index.ts                    |
 * | `upstreamLogin`| the first end-user sign-in (the upstream provider's relying party)       | index.ts                    |
 */
export const load = {
  /** knex with the migrations. */
  knex: () => import('../store/knex.js'),
  /** The admin use cases that change records (knex). */
  adminService: () => import('../app/service.js'),
  /** The admin HTTP API: routes, zod schemas, OpenAPI, admin authentication. */
  adminApi: () => import('../admin-api/index.js'),
  /** The diagnosis engine over the store (src/diagnose, the engine `certbound doctor` uses). */
  diagnosis: () => import('../app/diagnosis.js'),
  /** jwks_uri fetching (undici) and the checks of what a self-signed or private_key_jwt client publishes. */
  jwksUri: async () => {
    const [{ createJwksUriCache }, { validateSelfSignedJwks }, { validatePrivateKeyJwtJwks }] = await Promise.all([
      import('../outbound/jwks-uri-cache.js'),
      import('../jwks/self-signed.js'),
      import('../jwks/private-key-jwt.js'),
    ]);
    return { createJwksUriCache, validateSelfSignedJwks, validatePrivateKeyJwtJwks };
  },
  /** The development PKI (@peculiar/x509, about 10 MB a production server never needs). */
  devPki: () => import('../app/dev-pki.js'),
  /** Dynamic client registration's use cases (knex), for the registration endpoint (registration/). */
  registrations: () => import('../app/registrations.js'),
  /** The OpenID relying party end users sign in through (openid-client), for the authorization code flow. */
  upstreamLogin: () => import('./interactions/upstream-login.js'),
};

/**
 * A part of the server loaded on first use: every caller shares one load; a load that failed is tried
 * again by the next caller. `loaded()` is the load started so far, if any (to close what was loaded).
 */
export function loadOnce<T>(load: () => Promise<T>): (() => Promise<T>) & { loaded(): Promise<T> | undefined } {
  let loading: Promise<T> | undefined;
  const get = () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
  return Object.assign(get, { loaded: () => loading });
}
