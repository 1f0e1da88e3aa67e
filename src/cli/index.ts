/**
 * The `certbound` command. Commands call the admin use cases (never raw SQL) with the same configuration
 * and database as the server. This file is the command tree; what a command loads when it runs is
 * decided in modules.ts, so building the tree (and `--help`) loads none of it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { AdminQueries } from '../app/queries.js';
import type { createAdminService, MappingInput } from '../app/service.js';
import type { Config } from '../config/index.js';
import { InvalidInputError } from '../errors/index.js';
import { MAPPING_KIND_DEFINITIONS, MAPPING_KIND_FLAGS, MAPPING_KINDS } from '../mapping/kinds.js';
import { cliWording } from './error-wording.js';
import { cliActor, readFileArg, withDatabase, withReadOnlyDatabase, withStorageErrors } from './util.js';
import { reportCliError } from './error-output.js';
import { assertSupportedRuntime } from '../runtime.js';
import { addMappingSourceOptions, CliExit, mappingFromCertOptions, registerDiagnosisCommands } from './diagnose-commands.js';
import { registerRegistrationCommands } from './registration-commands.js';
import { load } from './modules.js';
import { registerTokenCommand } from './token-command.js';
import type { ClientRecord } from '../store/index.js';
import type { Io } from './serve.js';

/** Each mapping kind's option as commander names its value (`--san-dns` → `sanDns`), with the kind. */
const MAPPING_FLAGS = MAPPING_KINDS.map((kind) => [MAPPING_KIND_DEFINITIONS[kind].cliFlag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), kind] as const);

/** One option per mapping kind (src/mapping/kinds.ts); `client add` says the value is the one expected. */
function addMappingKindOptions(command: Command, expected: boolean): Command {
  for (const kind of MAPPING_KINDS) {
    const { cliFlag, cliValue, cliHelp } = MAPPING_KIND_DEFINITIONS[kind];
    command.option(`${cliFlag} ${cliValue}`, expected ? `expected ${cliHelp}` : cliHelp);
  }
  return command;
}



function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidInputError('ERR_DATE_INVALID', `${flag} "${value}" is not a date`, { hint: 'Use ISO 8601, e.g. 2027-01-31 or 2027-01-31T12:00:00Z.' });
  return d;
}

/** `word` as one shell word: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function splitScopes(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}

function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The SUBJECT column of a client without mappings. */
function describeJwks(c: ClientRecord): string {
  if (c.jwksUri) return c.authMethod === 'private_key_jwt' ? `any certificate (private_key_jwt, keys at ${c.jwksUri})` : `self-signed certificates at ${c.jwksUri}`;
  if (!c.jwks) return '-';
  if (c.authMethod === 'private_key_jwt') return `any certificate (private_key_jwt, ${c.jwks.keys.length} key${c.jwks.keys.length === 1 ? '' : 's'})`;
  return 'self-signed certificate';
}

function describeMapping(m: ClientRecord['mappings'][number]): string {
  const window = m.notBefore || m.notAfter ? ` [${m.notBefore?.toISOString() ?? '…'} → ${m.notAfter?.toISOString() ?? '…'}]` : '';
  return `${m.kind}=${m.value}${m.trustAnchorName ? ` (trust: ${m.trustAnchorName})` : ''}${window}`;
}


/**
 * Builds the CLI. `env` is the process environment; `io` receives output (tests capture it).
 *
 * @example
 * await buildCli(process.env, { out: console.log, err: console.error }).parseAsync(process.argv);
 */
export function buildCli(env: Readonly<Record<string, string | undefined>>, io: Io): Command {
  const withAdmin = async <T>(fn: (admin: ReturnType<typeof createAdminService>, cfg: Config) => Promise<T>): Promise<T> => {
    const { createAdminService } = await load.admin();
    return withDatabase(env, (db, cfg) => fn(createAdminService({ db, keyEncryptionKey: cfg.keyEncryptionKey, signingAlg: cfg.signingAlg, outboundCaFile: cfg.outboundCaFile, jwksUriAllowedRanges: cfg.jwksUriAllowedRanges }), cfg));
  };
  /** The listings: the read-only use cases, on the drivers when the database is current (util.ts). */
  const withQueries = async <T>(fn: (queries: AdminQueries) => Promise<T>): Promise<T> => {
    const { createAdminQueries } = await load.queries();
    return withReadOnlyDatabase(env, (db) => fn(createAdminQueries({ db })));
  };
  const print = (v: unknown, json: boolean | undefined, human: () => string) => io.out(json ? JSON.stringify(v, null, 2) : human());

  const program = new Command('certbound')
    .description('certbound: an RFC 8705 OAuth 2.0 authorization server (mTLS client authentication, certificate-bound tokens).\nConfiguration comes from CERTBOUND_* environment variables and the optional file named by CERTBOUND_CONFIG (see docs/configuration.md).')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // A key id may start with `-` (keys made before certbound avoided such kids); the parser then
      // reads it as an option. Say how to pass it as a value. A kid is a 43-character SHA-256 thumbprint,
      // so a "--" word of that shape is one too, not a mistyped long option (which gets no hint).
      outputError: (s, write) => {
        const unknown = /unknown option '(-[^-'][^']+|--[A-Za-z0-9_-]{41})'/.exec(s)?.[1];
        write(unknown ? `${s.replace(/\n$/, '')}\nIf ${unknown} is a value (a key id), not an option, put -- before it, as in: certbound keys retire -- ${unknown}\n` : s);
      },
    })
    .showHelpAfterError();

  program
    .command('serve')
    .description('start the authorization server (main + mTLS listeners); migrates the database first unless CERTBOUND_MIGRATE_ON_START=false')
    .action(async () => {
      const [{ loadConfig }, { serveUntilStopped }] = await Promise.all([load.config(), load.serve()]);
      await serveUntilStopped(loadConfig({ env }), io);
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const [{ loadConfig }, { migrateLatest, openDatabase }] = await Promise.all([load.config(), load.knex()]);
      const cfg = loadConfig({ env });
      await withStorageErrors(cfg.database, async () => {
        const db = openDatabase(cfg.database);
        try {
          const applied = await migrateLatest(db);
          io.out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
        } finally {
          await db.destroy();
        }
      });
    });

  const devPki = program
    .command('dev-pki')
    .description('write a development PKI: root CA, intermediate CA (with its key, to issue more clients), server certificate (localhost, 127.0.0.1, ::1) and a client certificate, with a README')
    // --out is required of `dev-pki` itself only: commander would demand a required parent option of
    // `dev-pki issue-client` too, so the parent's action checks it (the action runs without a subcommand only).
    .option('--out <dir>', 'directory to write the PEM files to (required)')
    .option('--force', 'replace the PKI files the directory already holds')
    .action(async (opts: { out?: string; force?: boolean }, command: Command) => {
      if (opts.out === undefined) command.error("error: required option '--out <dir>' not specified", { code: 'commander.missingMandatoryOptionValue', exitCode: 2 });
      const dir = path.resolve(opts.out);
      const { DEV_PKI_FILES, generateDevPki } = await load.devPki();
      const present = Object.values(DEV_PKI_FILES).filter((f) => existsSync(path.join(dir, f)));
      if (present.length && !opts.force) {
        throw new InvalidInputError('ERR_DEV_PKI_EXISTS', `${dir} already holds PKI files (${present.join(', ')}); a new PKI would replace their keys, and whatever trusts or uses them would stop working.`, {
          hint: 'Pick another --out, or pass --force to replace them.',
        });
      }
      const files = await generateDevPki(dir);
      io.out(`wrote ${Object.values(files.paths).join(', ')}`);
    });
  devPki
    .command('issue-client')
    .description("development mode only: issue a new test client certificate and key from the dev PKI's issuing CA (EKU clientAuth), and print the `certbound client add` line that maps it")
    .requiredOption('--name <name>', 'client name: file names, default subject CN=<name>,O=certbound development, default DNS SAN <name>.certbound.test')
    .option('--san-dns <names...>', 'DNS SANs instead of the default one')
    .option('--subject <dn>', 'subject DN in RFC 4514 (most specific RDN first), e.g. "CN=orders-worker,O=Acme"; with --subject and no --san-dns the certificate has no SAN and is mapped by subject DN')
    .option('--pki <dir>', 'the development PKI (default: <data dir>/dev-pki, the one the server creates in development mode)')
    .action(async (opts: { name: string; sanDns?: string[]; subject?: string; pki?: string }) => {
      const [{ loadConfig }, { issueDevClient }] = await Promise.all([load.config(), load.devPki()]);
      const cfg = loadConfig({ env });
      if (cfg.env !== 'development') {
        throw new InvalidInputError('ERR_DEV_PKI_NOT_DEVELOPMENT', 'dev-pki issue-client issues test certificates in development mode only; this configuration is production (CERTBOUND_ENV).', {
          hint: "In production, have your own CA issue the client certificate, then map it with `certbound client add --from-cert FILE --match …`.",
        });
      }
      const issued = await issueDevClient(path.resolve(opts.pki ?? path.join(cfg.dataDir, 'dev-pki')), { name: opts.name, sanDns: opts.sanDns, subject: opts.subject });
      io.out(`issued ${issued.subject}${issued.sanDns.length ? ` (DNS SAN ${issued.sanDns.join(', ')})` : ''}, EKU clientAuth, valid until ${issued.notAfter.toISOString()}, x5t#S256 ${issued.x5tS256}`);
      io.out(`  certificate (followed by the issuing CA): ${issued.certPath}`);
      io.out(`  private key: ${issued.keyPath}`);
      io.out('Register it, for the demo API that development mode registers (for your own API, change --scope and --resource):');
      io.out(`  certbound ${issued.clientAddArgs.map(shellWord).join(' ')}`);
    });

  const trust = program.command('trust').description('manage trust anchors (CAs whose client certificates may authenticate)');
  trust
    .command('add')
    .description('trust a CA certificate for tls_client_auth')
    .requiredOption('--name <name>', 'a unique name, e.g. corp-root')
    .requiredOption('--cert <file>', 'PEM file with exactly one CA certificate')
    .option('--environment <label>', 'environment label, e.g. prod or staging')
    .option('--allow-no-eku', 'legacy PKIs: accept client certificates that have no Extended Key Usage extension at all (never one whose EKU lacks clientAuth)')
    .action(async (opts: { name: string; cert: string; environment?: string; allowNoEku?: boolean }) => {
      const pem = readFileArg(opts.cert, '--cert');
      const a = await withAdmin((admin) => admin.addTrustAnchor({ name: opts.name, pem, environment: opts.environment, allowMissingEku: opts.allowNoEku === true }, cliActor()));
      io.out(`trusted ${a.name}: ${a.subject} (SPKI SHA-256 ${a.spkiSha256}, expires ${a.notAfter.toISOString()})${a.allowMissingEku ? '; client certificates without EKU are accepted' : ''}`);
    });
  trust
    .command('list')
    .description('list trust anchors')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withQueries((queries) => queries.listTrustAnchors());
      print(
        list.map((a) => ({ name: a.name, subject: a.subject, environment: a.environment, allow_missing_eku: a.allowMissingEku, spki_sha256: a.spkiSha256, x5t_s256: a.x5tS256, not_after: a.notAfter.toISOString() })),
        opts.json,
        () => (list.length ? table([['NAME', 'ENV', 'SUBJECT', 'EXPIRES'], ...list.map((a) => [a.name, a.environment ?? '-', a.subject, a.notAfter.toISOString().slice(0, 10)])]) : 'no trust anchors'),
      );
    });
  trust
    .command('remove <name>')
    .description('stop trusting a CA (refused while mappings pin it)')
    .action(async (name: string) => {
      await withAdmin((admin) => admin.removeTrustAnchor(name, cliActor()));
      io.out(`removed trust anchor ${name}`);
    });

  const resource = program.command('resource').description('manage resource servers (token audiences)');
  resource
    .command('add')
    .description('register (or update) a resource server')
    .requiredOption('--id <uri>', 'resource indicator, e.g. https://api.example.com (RFC 8707); becomes the token aud')
    .requiredOption('--scope <scopes>', 'space-separated scopes the resource offers')
    .addOption(new Option('--format <format>', 'access token format').choices(['jwt', 'opaque']).default('jwt'))
    .option('--ttl <seconds>', 'access token lifetime in seconds (10-86400)')
    .option('--introspection-clients <ids>', 'space-separated client ids the resource server introspects its tokens as (besides each token\'s own client); "" removes them; omitted: unchanged')
    .action(async (opts: { id: string; scope: string; format: 'jwt' | 'opaque'; ttl?: string; introspectionClients?: string }) => {
      const ttl = opts.ttl === undefined ? undefined : Number(opts.ttl);
      const introspectionClients = opts.introspectionClients === undefined ? undefined : splitScopes(opts.introspectionClients);
      const rs = await withAdmin((admin) => admin.addResourceServer({ identifier: opts.id, scopes: splitScopes(opts.scope), tokenFormat: opts.format, ttl, introspectionClients }, cliActor()));
      const introspectors = rs.introspectionClients.length ? `, introspected by ${rs.introspectionClients.join(' ')}` : '';
      io.out(`resource ${rs.identifier}: scopes "${rs.scopes.join(' ')}", ${rs.tokenFormat} tokens${rs.ttl ? `, ttl ${rs.ttl}s` : ''}${introspectors}`);
    });
  resource
    .command('list')
    .description('list resource servers')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withQueries((queries) => queries.listResourceServers());
      print(
        list.map((r) => ({ identifier: r.identifier, scope: r.scopes.join(' '), token_format: r.tokenFormat, ttl: r.ttl, introspection_clients: r.introspectionClients })),
        opts.json,
        () => (list.length ? table([['ID', 'FORMAT', 'TTL', 'SCOPES', 'INTROSPECTION CLIENTS'], ...list.map((r) => [r.identifier, r.tokenFormat, r.ttl ? String(r.ttl) : 'default', r.scopes.join(' '), r.introspectionClients.join(' ') || '-'])]) : 'no resource servers'),
      );
    });
  resource
    .command('remove <id>')
    .description('remove a resource server')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.removeResourceServer(id, cliActor()));
      io.out(`removed resource ${id}`);
    });

  const client = program.command('client').description('manage clients and their certificate mappings');
  addMappingKindOptions(
    addMappingSourceOptions(client.command('add'))
      .description('register a client: tls_client_auth with one subject (DN or SAN), self_signed_tls_client_auth with its certificate, or private_key_jwt with its public keys')
      .requiredOption('--id <id>', 'client_id'),
    true,
  )
    .option('--self-signed-cert <file>', 'the client certificate (PEM) for self_signed_tls_client_auth')
    .option('--self-signed-jwks <file>', 'a JWKS (JSON) whose keys carry the client certificates in x5c, for self_signed_tls_client_auth')
    .option('--self-signed-jwks-uri <url>', 'where the client publishes its certificates (a JWKS with x5c, https), for self_signed_tls_client_auth; fetched now to check it, and again by the server on use')
    .option('--private-key-jwt-jwks <file>', 'a JWKS (JSON) with the public keys the client signs its client assertions with, for private_key_jwt; tokens are bound to the certificate it connects with')
    .option('--private-key-jwt-jwks-uri <url>', 'where the client publishes those public keys (a JWKS, https), for private_key_jwt; fetched now to check it, and again by the server on use')
    .option('--trust <name>', 'pin the mapping to this trust anchor (the chain must end there)')
    .option('--scope <scopes>', 'space-separated scopes the client may request')
    .option('--resource <uri>', 'default resource (audience) when the client sends no resource parameter')
    .option('--not-before <date>', 'mapping valid from (ISO 8601)')
    .option('--not-after <date>', 'mapping valid until (ISO 8601)')
    .option('--no-bound-tokens', 'do not require certificate-bound tokens (tls_client_certificate_bound_access_tokens=false)')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const given = MAPPING_FLAGS.filter(([flag]) => typeof opts[flag] === 'string');
      const fromCert = await mappingFromCertOptions(opts);
      const count = given.length + (fromCert ? 1 : 0) + (opts.selfSignedCert ? 1 : 0) + (opts.selfSignedJwks ? 1 : 0) + (opts.selfSignedJwksUri ? 1 : 0) + (opts.privateKeyJwtJwks ? 1 : 0) + (opts.privateKeyJwtJwksUri ? 1 : 0);
      if (count !== 1) {
        throw new InvalidInputError('ERR_CLIENT_SUBJECT_REQUIRED', count ? `Give exactly one way for the client to authenticate; got ${count}.` : 'A certificate subject option (or --private-key-jwt-jwks / --private-key-jwt-jwks-uri) is required.', {
          hint: `Use exactly one of ${MAPPING_KIND_FLAGS.join(', ')}, --from-cert, --self-signed-cert, --self-signed-jwks, --self-signed-jwks-uri, --private-key-jwt-jwks, --private-key-jwt-jwks-uri (RFC 8705: one subject value per client).`,
        });
      }
      const mapping: MappingInput | undefined =
        given[0] || fromCert
          ? {
              kind: fromCert?.kind ?? given[0]![1],
              value: fromCert?.value ?? String(opts[given[0]![0]]),
              trustAnchor: opts.trust as string | undefined,
              notBefore: parseDate(opts.notBefore as string | undefined, '--not-before'),
              notAfter: parseDate(opts.notAfter as string | undefined, '--not-after'),
              allowOverlap: opts.allowOverlap === true,
            }
          : undefined;
      if ((opts.selfSignedCert || opts.selfSignedJwks || opts.selfSignedJwksUri || opts.privateKeyJwtJwks || opts.privateKeyJwtJwksUri) && opts.trust) {
        throw new InvalidInputError('ERR_TRUST_WITH_SELF_SIGNED', '--trust applies to PKI mappings only; self-signed clients are matched by their exact certificate.');
      }
      const selfSignedCertPem = opts.selfSignedCert ? readFileArg(String(opts.selfSignedCert), '--self-signed-cert') : undefined;
      const selfSignedJwks = opts.selfSignedJwks ? readFileArg(String(opts.selfSignedJwks), '--self-signed-jwks') : undefined;
      const privateKeyJwtJwks = opts.privateKeyJwtJwks ? readFileArg(String(opts.privateKeyJwtJwks), '--private-key-jwt-jwks') : undefined;
      const c = await withAdmin((admin) =>
        admin.addClient(
          {
            clientId: String(opts.id),
            ...(mapping ? { mapping } : {}),
            ...(selfSignedCertPem ? { selfSignedCertPem } : {}),
            ...(selfSignedJwks ? { selfSignedJwks } : {}),
            ...(privateKeyJwtJwks ? { privateKeyJwtJwks } : {}),
            ...(typeof opts.selfSignedJwksUri === 'string' ? { selfSignedJwksUri: opts.selfSignedJwksUri } : {}),
            ...(typeof opts.privateKeyJwtJwksUri === 'string' ? { privateKeyJwtJwksUri: opts.privateKeyJwtJwksUri } : {}),
            scopes: splitScopes(opts.scope as string | undefined),
            defaultResource: opts.resource as string | undefined,
            boundTokens: opts.boundTokens !== false,
          },
          cliActor(),
        ),
      );
      io.out(`client ${c.clientId} (${c.authMethod})${c.mappings[0] ? `: ${describeMapping(c.mappings[0])}` : ''}`);
    });
  client
    .command('update <id>')
    .description("change a client's scopes or default resource, or replace its keys: private_key_jwt public keys, or a self-signed client's certificates (key rotation)")
    .option('--scope <scopes>', 'space-separated scopes the client may request (replaces the list)')
    .option('--resource <uri>', 'default resource (audience) when the client sends no resource parameter')
    .option('--jwks <file>', 'a JWKS (JSON) that replaces the registered keys: public keys (private_key_jwt) or certificates in x5c (self_signed_tls_client_auth)')
    .option('--jwks-uri <url>', 'the client publishes its keys here from now on (https; fetched now to check it): certificates (self_signed_tls_client_auth) or public keys (private_key_jwt)')
    .option('--bound-tokens <on|off>', 'require certificate-bound tokens (tls_client_certificate_bound_access_tokens)')
    .action(async (id: string, opts: { scope?: string; resource?: string; jwks?: string; jwksUri?: string; boundTokens?: string }) => {
      if (opts.boundTokens !== undefined && !['on', 'off'].includes(opts.boundTokens)) {
        throw new InvalidInputError('ERR_BOUND_TOKENS_INVALID', `--bound-tokens "${opts.boundTokens}": use on or off.`);
      }
      const input = {
        ...(opts.scope === undefined ? {} : { scopes: splitScopes(opts.scope) }),
        ...(opts.resource === undefined ? {} : { defaultResource: opts.resource }),
        ...(opts.boundTokens === undefined ? {} : { boundTokens: opts.boundTokens === 'on' }),
        ...(opts.jwks === undefined ? {} : { jwks: readFileArg(opts.jwks, '--jwks') }),
        ...(opts.jwksUri === undefined ? {} : { jwksUri: opts.jwksUri }),
      };
      if (Object.keys(input).length === 0) {
        throw new InvalidInputError('ERR_NOTHING_TO_CHANGE', 'Nothing to change.', { hint: 'Give at least one of --scope, --resource, --bound-tokens, --jwks, --jwks-uri.' });
      }
      const c = await withAdmin((admin) => admin.updateClient(id, input, cliActor()));
      io.out(`updated client ${c.clientId} (${c.authMethod})`);
    });
  client
    .command('list')
    .description('list clients')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withQueries((queries) => queries.listClients());
      const { clientJson } = await load.queries();
      // The REGISTRATION column appears once a client registered itself: administrators' clients alone list as before.
      const registered = list.some((c) => c.registration !== null);
      const row = (c: ClientRecord) => [c.clientId, c.authMethod, c.scopes.join(' '), ...(registered ? [c.registration ?? '-'] : []), c.mappings.map(describeMapping).join('; ') || describeJwks(c)];
      print(list.map(clientJson), opts.json, () => (list.length ? table([['CLIENT', 'METHOD', 'SCOPES', ...(registered ? ['REGISTRATION'] : []), 'SUBJECT'], ...list.map(row)]) : 'no clients'));
    });
  client
    .command('show <id>')
    .description('show one client with its mappings')
    .option('--json', 'JSON output')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = await withQueries((queries) => queries.showClient(id));
      const { clientJson } = await load.queries();
      print(clientJson(c), opts.json, () =>
        [
          `client_id: ${c.clientId}`,
          ...(c.registration === 'pending' ? [`registration: pending (certbound client approve ${c.clientId}, or reject)`] : c.registration ? [`registration: ${c.registration}`] : []),
          `auth method: ${c.authMethod}`,
          `bound tokens: ${c.boundTokens}`,
          `scopes: ${c.scopes.join(' ') || '-'}`,
          `default resource: ${c.defaultResource ?? '-'}`,
          ...(c.mappings.length ? ['mappings:', ...c.mappings.map((m) => `  ${m.id}  ${describeMapping(m)}`)] : []),
          ...(c.jwks && c.authMethod === 'self_signed_tls_client_auth' ? [`self-signed certificate x5t#S256: ${String(c.jwks.keys[0]?.kid)}`] : []),
          ...(c.jwksUri ? [`${c.authMethod === 'private_key_jwt' ? 'client assertion keys' : 'self-signed certificates'} published at (jwks_uri): ${c.jwksUri}`] : []),
          ...(c.jwks && c.authMethod === 'private_key_jwt' ? [`client assertion keys (kid): ${c.jwks.keys.map((k) => `${String(k.kid)} (${String(k.kty)}${k.crv ? ` ${String(k.crv)}` : ''})`).join(', ')}`] : []),
        ].join('\n'),
      );
    });
  client
    .command('remove <id>')
    .description('remove a client and its mappings (its tokens stop being introspectable)')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.removeClient(id, cliActor()));
      io.out(`removed client ${id}`);
    });
  const mapping = client.command('mapping').description("manage a client's certificate mappings (several allow rotation)");
  addMappingKindOptions(addMappingSourceOptions(mapping.command('add <clientId>')).description('add a mapping; any currently valid mapping authenticates the client'), false)
    .option('--trust <name>', 'pin to this trust anchor')
    .option('--not-before <date>', 'valid from (ISO 8601)')
    .option('--not-after <date>', 'valid until (ISO 8601)')
    .action(async (clientId: string, opts: Record<string, string | undefined>) => {
      const given = MAPPING_FLAGS.filter(([flag]) => typeof opts[flag] === 'string');
      const fromCert = await mappingFromCertOptions(opts);
      if (given.length + (fromCert ? 1 : 0) !== 1) {
        throw new InvalidInputError('ERR_CLIENT_SUBJECT_REQUIRED', `Give exactly one of ${MAPPING_KIND_FLAGS.join(', ')}, --from-cert.`);
      }
      const kind = fromCert?.kind ?? given[0]![1];
      const value = fromCert?.value ?? String(opts[given[0]![0]]);
      const allowOverlap = (opts as Record<string, unknown>).allowOverlap === true;
      const m = await withAdmin((admin) =>
        admin.addMapping(clientId, { kind, value, trustAnchor: opts.trust, notBefore: parseDate(opts.notBefore, '--not-before'), notAfter: parseDate(opts.notAfter, '--not-after'), allowOverlap }, cliActor()),
      );
      io.out(`added mapping ${m.id} to ${clientId}: ${describeMapping(m)}`);
    });
  mapping
    .command('list <clientId>')
    .description("list a client's mappings")
    .option('--json', 'JSON output')
    .action(async (clientId: string, opts: { json?: boolean }) => {
      const c = await withQueries((queries) => queries.showClient(clientId));
      const { clientJson } = await load.queries();
      print(clientJson(c).mappings, opts.json, () => c.mappings.map((m) => `${m.id}  ${describeMapping(m)}`).join('\n') || 'no mappings');
    });
  mapping
    .command('update <clientId> <mappingId>')
    .description("change a mapping's validity window (e.g. end the old mapping of a rotation)")
    .option('--not-before <date>', 'valid from (ISO 8601), or "none" to drop the start')
    .option('--not-after <date>', 'valid until (ISO 8601), or "none" to drop the end')
    .option('--allow-overlap', 'accept a window in which another client has a mapping with the same value')
    .action(async (clientId: string, mappingId: string, opts: { notBefore?: string; notAfter?: string; allowOverlap?: boolean }) => {
      const windowSide = (value: string | undefined, flag: string) => (value === undefined ? undefined : value === 'none' ? null : parseDate(value, flag));
      const m = await withAdmin((admin) =>
        admin.updateMapping(clientId, mappingId, { notBefore: windowSide(opts.notBefore, '--not-before'), notAfter: windowSide(opts.notAfter, '--not-after'), allowOverlap: opts.allowOverlap === true }, cliActor()),
      );
      io.out(`updated mapping ${m.id} of ${clientId}: ${describeMapping(m)}`);
    });
  mapping
    .command('remove <clientId> <mappingId>')
    .description('remove a mapping (the last one cannot be removed)')
    .action(async (clientId: string, mappingId: string) => {
      await withAdmin((admin) => admin.removeMapping(clientId, mappingId, cliActor()));
      io.out(`removed mapping ${mappingId} from ${clientId}`);
    });

  const keys = program.command('keys').description('manage token signing keys');
  keys
    .command('list')
    .description('list signing keys (active signs; inactive is still published; retired is gone)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withQueries((queries) => queries.listKeys());
      print(
        list.map((k) => ({ kid: k.kid, alg: k.alg, status: k.status, created_at: k.createdAt.toISOString(), retired_at: k.retiredAt?.toISOString() ?? null })),
        opts.json,
        () => (list.length ? table([['KID', 'ALG', 'STATUS', 'CREATED'], ...list.map((k) => [k.kid, k.alg, k.status, k.createdAt.toISOString()])]) : 'no signing keys'),
      );
    });
  keys
    .command('rotate')
    .description('add a new active key; the previous one stays published (inactive) until retired. Running servers pick it up within CERTBOUND_RELOAD_INTERVAL_MS.')
    .action(async () => {
      const k = await withAdmin((admin) => admin.rotateKeys(cliActor()));
      io.out(`new active key ${k.kid} (${k.alg})`);
    });
  keys
    .command('retire <kid>')
    .description('stop publishing an inactive key (tokens it signed stop verifying)')
    .action(async (kid: string) => {
      await withAdmin((admin) => admin.retireKey(kid, cliActor()));
      io.out(`retired key ${kid}`);
    });

  const audit = program.command('audit').description('the audit log of administrative changes (CLI and admin API)');
  audit
    .command('list')
    .description('list audit entries, newest first')
    .option('--limit <n>', 'how many entries (1-1000)', '100')
    .option('--target <target>', 'only this target, e.g. client:billing, trust:corp-root, resource:URI, key:KID')
    .option('--json', 'JSON output')
    .action(async (opts: { limit: string; target?: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError('ERR_LIMIT_INVALID', `--limit ${opts.limit} is not a whole number from 1 to 1000`);
      const entries = await withAdmin((admin) => admin.listAudit({ limit, target: opts.target }));
      print(
        entries.map((e) => ({ id: e.id, at: e.at.toISOString(), actor: e.actor, action: e.action, target: e.target, before: e.before, after: e.after })),
        opts.json,
        () => (entries.length ? table([['AT', 'ACTOR', 'ACTION', 'TARGET'], ...entries.map((e) => [e.at.toISOString(), e.actor, e.action, e.target])]) : 'no audit entries'),
      );
    });

  registerDiagnosisCommands(program, { env, io });
  registerRegistrationCommands(program, { env, io });
  registerTokenCommand(program, { io });
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad input). */
export async function runCli(argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io): Promise<number> {
  try {
    assertSupportedRuntime();
    await buildCli(env, io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliExit) return err.exitCode;
    return reportCliError(err, io, cliWording);
  }
}
