/**
 * `certbound client add|update|list|show|remove` and `client mapping add|list|update|remove`: clients (with
 * their grant types and redirect URIs) and their certificate mappings (`client approve|reject`:
 * registration-commands.ts).
 */
import type { Command } from 'commander';
import type { MappingInput } from '../app/service.js';
import { InvalidInputError } from '../errors/index.js';
import { MAPPING_KIND_DEFINITIONS, MAPPING_KIND_FLAGS, MAPPING_KINDS } from '../mapping/kinds.js';
import type { ClientRecord } from '../store/index.js';
import { type CommandContext, parseDate, splitScopes, table } from './command-context.js';
import { addMappingSourceOptions, mappingFromCertOptions } from './diagnose-commands.js';
import { load } from './modules.js';
import { cliActor, readFileArg } from './util.js';

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

/** `--grant-types authorization_code,refresh_token` (commas or spaces). */
function grantTypesOf(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(/[\s,]+/).filter(Boolean);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The SUBJECT column of a client without mappings. */
function describeJwks(c: ClientRecord): string {
  if (c.authMethod === 'none') return 'any certificate (public client: proof of possession only)';
  if (c.jwksUri) return c.authMethod === 'private_key_jwt' ? `any certificate (private_key_jwt, keys at ${c.jwksUri})` : `self-signed certificates at ${c.jwksUri}`;
  if (!c.jwks) return '-';
  if (c.authMethod === 'private_key_jwt') return `any certificate (private_key_jwt, ${c.jwks.keys.length} key${c.jwks.keys.length === 1 ? '' : 's'})`;
  return 'self-signed certificate';
}

function describeMapping(m: ClientRecord['mappings'][number]): string {
  const window = m.notBefore || m.notAfter ? ` [${m.notBefore?.toISOString() ?? '…'} → ${m.notAfter?.toISOString() ?? '…'}]` : '';
  return `${m.kind}=${m.value}${m.trustAnchorName ? ` (trust: ${m.trustAnchorName})` : ''}${window}`;
}

export function registerClientCommands(program: Command, { io, withAdmin, withQueries, print }: CommandContext): void {
  const client = program.command('client').description('manage clients and their certificate mappings');
  addMappingKindOptions(
    addMappingSourceOptions(client.command('add'))
      .description(
        'register a client: tls_client_auth with one subject (DN or SAN), self_signed_tls_client_auth with its certificate, private_key_jwt with its public keys, or a public client (--public); --grant-types and --redirect-uri make it a client of the authorization code flow',
      )
      .requiredOption('--id <id>', 'client_id'),
    true,
  )
    .option('--self-signed-cert <file>', 'the client certificate (PEM) for self_signed_tls_client_auth')
    .option('--self-signed-jwks <file>', 'a JWKS (JSON) whose keys carry the client certificates in x5c, for self_signed_tls_client_auth')
    .option(
      '--self-signed-jwks-uri <url>',
      'where the client publishes its certificates (a JWKS with x5c, https), for self_signed_tls_client_auth; fetched now to check it, and again by the server on use',
    )
    .option(
      '--private-key-jwt-jwks <file>',
      'a JWKS (JSON) with the public keys the client signs its client assertions with, for private_key_jwt; tokens are bound to the certificate it connects with',
    )
    .option(
      '--private-key-jwt-jwks-uri <url>',
      'where the client publishes those public keys (a JWKS, https), for private_key_jwt; fetched now to check it, and again by the server on use',
    )
    .option('--trust <name>', 'pin the mapping to this trust anchor (the chain must end there)')
    .option('--scope <scopes>', 'space-separated scopes the client may request')
    .option('--resource <uri>', 'default resource (audience) when the client sends no resource parameter')
    .option('--not-before <date>', 'mapping valid from (ISO 8601)')
    .option('--not-after <date>', 'mapping valid until (ISO 8601)')
    .option('--no-bound-tokens', 'do not require certificate-bound tokens (tls_client_certificate_bound_access_tokens=false)')
    .option(
      '--public',
      'a public client of the authorization code flow (token_endpoint_auth_method none): no mapping and no keys; the certificate it connects with proves possession only, and its tokens are bound to it (RFC 8705 §4)',
    )
    .option(
      '--grant-types <types>',
      'grant types, comma-separated: client_credentials, authorization_code, refresh_token (default client_credentials; authorization_code for --public)',
    )
    .option('--redirect-uri <uri>', 'where the authorization code flow returns, compared exactly (https; http only on a loopback host); repeat for several', collect)
    .option('--no-par', 'do not require pushed authorization requests (RFC 9126) from this client (required by default)')
    .action(async (opts: Record<string, string | string[] | boolean | undefined>) => {
      const given = MAPPING_FLAGS.filter(([flag]) => typeof opts[flag] === 'string');
      const fromCert = await mappingFromCertOptions(opts);
      const count =
        given.length +
        (fromCert ? 1 : 0) +
        (opts.selfSignedCert ? 1 : 0) +
        (opts.selfSignedJwks ? 1 : 0) +
        (opts.selfSignedJwksUri ? 1 : 0) +
        (opts.privateKeyJwtJwks ? 1 : 0) +
        (opts.privateKeyJwtJwksUri ? 1 : 0);
      // A public client gives none; one given anyway is refused by the use case, which names it.
      if (count !== 1 && !(opts.public === true && count === 0)) {
        throw new InvalidInputError(
          'ERR_CLIENT_SUBJECT_REQUIRED',
          count
            ? `Give exactly one way for the client to authenticate; got ${count}.`
            : 'A certificate subject option (or --private-key-jwt-jwks / --private-key-jwt-jwks-uri) is required.',
          {
            hint: `Use exactly one of ${MAPPING_KIND_FLAGS.join(', ')}, --from-cert, --self-signed-cert, --self-signed-jwks, --self-signed-jwks-uri, --private-key-jwt-jwks, --private-key-jwt-jwks-uri (RFC 8705: one subject value per client).`,
          },
        );
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
            ...(opts.public === true ? { publicClient: true } : {}),
            ...(typeof opts.grantTypes === 'string' ? { grantTypes: grantTypesOf(opts.grantTypes) } : {}),
            ...(Array.isArray(opts.redirectUri) ? { redirectUris: opts.redirectUri } : {}),
            ...(opts.par === false ? { requirePar: false } : {}),
          },
          cliActor(),
        ),
      );
      io.out(
        `client ${c.clientId} (${c.authMethod})${c.mappings[0] ? `: ${describeMapping(c.mappings[0])}` : ''}${c.grantTypes.includes('authorization_code') ? `; grants ${c.grantTypes.join(', ')}` : ''}`,
      );
    });
  client
    .command('update <id>')
    .description("change a client's scopes or default resource, or replace its keys: private_key_jwt public keys, or a self-signed client's certificates (key rotation)")
    .option('--scope <scopes>', 'space-separated scopes the client may request (replaces the list)')
    .option('--resource <uri>', 'default resource (audience) when the client sends no resource parameter')
    .option('--jwks <file>', 'a JWKS (JSON) that replaces the registered keys: public keys (private_key_jwt) or certificates in x5c (self_signed_tls_client_auth)')
    .option(
      '--jwks-uri <url>',
      'the client publishes its keys here from now on (https; fetched now to check it): certificates (self_signed_tls_client_auth) or public keys (private_key_jwt)',
    )
    .option('--bound-tokens <on|off>', 'require certificate-bound tokens (tls_client_certificate_bound_access_tokens)')
    .option('--grant-types <types>', 'replace the grant types, comma-separated: client_credentials, authorization_code, refresh_token')
    .option('--redirect-uri <uri>', 'replace the redirect URIs (https; http only on a loopback host); repeat for several', collect)
    .option('--no-redirect-uris', 'remove every redirect URI (with --grant-types that leave authorization_code out)')
    .option('--par <on|off>', 'require pushed authorization requests (RFC 9126) from this client')
    .action(
      async (
        id: string,
        opts: {
          scope?: string;
          resource?: string;
          jwks?: string;
          jwksUri?: string;
          boundTokens?: string;
          grantTypes?: string;
          redirectUri?: string[];
          redirectUris?: boolean;
          par?: string;
        },
      ) => {
        for (const [flag, value] of [
          ['--bound-tokens', opts.boundTokens],
          ['--par', opts.par],
        ] as const) {
          if (value !== undefined && !['on', 'off'].includes(value)) throw new InvalidInputError('ERR_BOUND_TOKENS_INVALID', `${flag} "${value}": use on or off.`);
        }
        if (opts.redirectUri && opts.redirectUris === false) {
          throw new InvalidInputError('ERR_NOTHING_TO_CHANGE', 'Give either --redirect-uri or --no-redirect-uris, not both.');
        }
        const input = {
          ...(opts.scope === undefined ? {} : { scopes: splitScopes(opts.scope) }),
          ...(opts.resource === undefined ? {} : { defaultResource: opts.resource }),
          ...(opts.boundTokens === undefined ? {} : { boundTokens: opts.boundTokens === 'on' }),
          ...(opts.jwks === undefined ? {} : { jwks: readFileArg(opts.jwks, '--jwks') }),
          ...(opts.jwksUri === undefined ? {} : { jwksUri: opts.jwksUri }),
          ...(opts.grantTypes === undefined ? {} : { grantTypes: grantTypesOf(opts.grantTypes) }),
          ...(opts.redirectUri ? { redirectUris: opts.redirectUri } : opts.redirectUris === false ? { redirectUris: [] } : {}),
          ...(opts.par === undefined ? {} : { requirePar: opts.par === 'on' }),
        };
        if (Object.keys(input).length === 0) {
          throw new InvalidInputError('ERR_NOTHING_TO_CHANGE', 'Nothing to change.', {
            hint: 'Give at least one of --scope, --resource, --bound-tokens, --jwks, --jwks-uri, --grant-types, --redirect-uri, --no-redirect-uris, --par.',
          });
        }
        const c = await withAdmin((admin) => admin.updateClient(id, input, cliActor()));
        io.out(`updated client ${c.clientId} (${c.authMethod})`);
      },
    );
  client
    .command('list')
    .description('list clients')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withQueries((queries) => queries.listClients());
      const { clientJson } = await load.queries();
      // The REGISTRATION column appears once a client registered itself: administrators' clients alone list as before.
      const registered = list.some((c) => c.registration !== null);
      // So does the GRANTS column once a client has another grant than client_credentials.
      const grants = list.some((c) => c.grantTypes.join() !== 'client_credentials');
      const row = (c: ClientRecord) => [
        c.clientId,
        c.authMethod,
        c.scopes.join(' '),
        ...(grants ? [c.grantTypes.join(',')] : []),
        ...(registered ? [c.registration ?? '-'] : []),
        c.mappings.map(describeMapping).join('; ') || describeJwks(c),
      ];
      print(list.map(clientJson), opts.json, () =>
        list.length ? table([['CLIENT', 'METHOD', 'SCOPES', ...(grants ? ['GRANTS'] : []), ...(registered ? ['REGISTRATION'] : []), 'SUBJECT'], ...list.map(row)]) : 'no clients',
      );
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
          ...(c.registration === 'pending'
            ? [`registration: pending (certbound client approve ${c.clientId}, or reject)`]
            : c.registration
              ? [`registration: ${c.registration}`]
              : []),
          `auth method: ${c.authMethod}${c.authMethod === 'none' ? ' (public client: its certificate proves possession only)' : ''}`,
          `bound tokens: ${c.boundTokens}`,
          `grant types: ${c.grantTypes.join(', ')}`,
          ...(c.grantTypes.includes('authorization_code')
            ? [`redirect URIs: ${c.redirectUris.join(' ') || '-'}`, `pushed authorization requests: ${c.requirePar ? 'required' : 'optional'}`]
            : []),
          `scopes: ${c.scopes.join(' ') || '-'}`,
          `default resource: ${c.defaultResource ?? '-'}`,
          ...(c.mappings.length ? ['mappings:', ...c.mappings.map((m) => `  ${m.id}  ${describeMapping(m)}`)] : []),
          ...(c.jwks && c.authMethod === 'self_signed_tls_client_auth' ? [`self-signed certificate x5t#S256: ${String(c.jwks.keys[0]?.kid)}`] : []),
          ...(c.jwksUri ? [`${c.authMethod === 'private_key_jwt' ? 'client assertion keys' : 'self-signed certificates'} published at (jwks_uri): ${c.jwksUri}`] : []),
          ...(c.jwks && c.authMethod === 'private_key_jwt'
            ? [`client assertion keys (kid): ${c.jwks.keys.map((k) => `${String(k.kid)} (${String(k.kty)}${k.crv ? ` ${String(k.crv)}` : ''})`).join(', ')}`]
            : []),
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
        admin.addMapping(
          clientId,
          { kind, value, trustAnchor: opts.trust, notBefore: parseDate(opts.notBefore, '--not-before'), notAfter: parseDate(opts.notAfter, '--not-after'), allowOverlap },
          cliActor(),
        ),
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
        admin.updateMapping(
          clientId,
          mappingId,
          { notBefore: windowSide(opts.notBefore, '--not-before'), notAfter: windowSide(opts.notAfter, '--not-after'), allowOverlap: opts.allowOverlap === true },
          cliActor(),
        ),
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
}
