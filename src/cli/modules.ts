/**
 * What the `certbound` commands load, decided here and nowhere else in the CLI.
 *
 * The command tree (index.ts and the `*-commands.ts` files) imports only commander, the error classes and this
 * table, so `certbound --help`, a mistyped option and the usage errors cost a few dozen modules instead
 * of the whole server. A command's action loads what it needs through these loaders when it runs; each
 * loader is a dynamic import, and a module loaded twice is loaded once (the runtime caches it). In the
 * installed command's bundle (scripts/build-cli.mjs → dist/cli/) each loader's import is a chunk of its own,
 * so the bundle keeps these loads lazy.
 *
 * | command                                   | loads                                                          |
 * | ----------------------------------------- | -------------------------------------------------------------- |
 * | `--help`, usage errors                    | nothing below                                                  |
 * | `serve` through `runCli` (`certbound serve` itself goes straight to serve.ts: main.ts) | config, serve |
 * | `migrate`                                 | config, knex                                                   |
 * | `dev-pki`                                 | devPki                                                         |
 * | `dev-pki issue-client`                    | config, devPki                                                 |
 * | `trust list`, `resource list`, `keys list`, `client list`, `client show`, `client mapping list`, `consent list`, `refresh-token list` | config, driver, queries; knex too when the database is not current |
 * | the commands that change records, `audit list` | config, knex, admin (`--from-cert`: mappingFromCert too)  |
 * | `registration-token …`, `client approve`, `client reject` | config, knex, admin                     |
 * | `upstream …`, `consent revoke`, `refresh-token revoke` | config, knex, admin (queries for the JSON shapes)      |
 * | `doctor`                                  | config, knex, diagnosis (jwksUri for a client that publishes its keys) |
 * | `certs expiring`                          | config, knex, expiry                                           |
 * | `trust crl …`                             | config, knex, crls                                             |
 * | `token`                                   | client (no configuration, no database)                         |
 *
 * A command that fails on the database also loads storageErrors, which explains the failure.
 */
export const load = {
  /** The configuration reader and its schema (zod). */
  config: () => import('../config/index.js'),
  /** knex with the migrations: `migrate`, every change, and a read on a database that is not current. */
  knex: () => import('../store/knex.js'),
  /** The database drivers without knex, and the one-query schema check: the listings. */
  driver: async () => {
    const [{ openDriverSql }, { recordsExactlyOurMigrations }] = await Promise.all([import('../store/driver.js'), import('../store/schema-version.js')]);
    return { openDriverSql, recordsExactlyOurMigrations };
  },
  /** The read-only admin use cases and the JSON shape of a client (no certificate parsing, no key handling). */
  queries: async () => {
    const [{ createAdminQueries }, { clientJson, consentJson, refreshTokenJson, registrationTokenJson, upstreamJson }] = await Promise.all([
      import('../app/queries.js'),
      import('../admin-api/serializers.js'),
    ]);
    return { createAdminQueries, clientJson, consentJson, refreshTokenJson, registrationTokenJson, upstreamJson };
  },
  /**
   * The admin use cases that change records (certificates, keys, jwks_uri checks): app/service.ts
   * assembles one module per kind of record. Their refusals are worded for the terminal by
   * error-wording.ts, which the command tree loads (it imports nothing).
   */
  admin: () => import('../app/service.js'),
  /** What the database errors mean: every command that opens the database. */
  storageErrors: () => import('../store/storage-errors.js'),
  devPki: () => import('../app/dev-pki.js'),
  mappingFromCert: () => import('../app/mapping-from-cert.js'),
  diagnosis: async () => {
    const [{ diagnoseFromStore }, { formatDiagnosis }, { parseCertificate, parsePemCertificates, x5tS256 }] = await Promise.all([
      import('../app/diagnosis.js'),
      import('../diagnose/index.js'),
      import('../pki/index.js'),
    ]);
    return { diagnoseFromStore, formatDiagnosis, parseCertificate, parsePemCertificates, x5tS256 };
  },
  /** `doctor` on a client that publishes its certificates: fetched from its jwks_uri. */
  jwksUri: async () => {
    const [{ fetchJwksUriOnce }, { validateSelfSignedJwks }] = await Promise.all([import('../outbound/jwks-uri-cache.js'), import('../jwks/self-signed.js')]);
    return { fetchJwksUriOnce, validateSelfSignedJwks };
  },
  expiry: () => import('../app/expiry.js'),
  crls: () => import('../app/crls.js'),
  /** `certbound token`: the client library (undici and jose). */
  client: () => import('../client/index.js'),
  /** The long-running command, when it comes through `runCli` (`certbound serve` alone skips the CLI: main.ts). */
  serve: () => import('./serve.js'),
};
