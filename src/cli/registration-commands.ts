/**
 * CLI commands for dynamic client registration: `certbound registration-token create|list|revoke`
 * (initial access tokens), `certbound software-issuer add|list|remove` (trusted software statement
 * issuers) and `certbound client approve|reject` (registrations that await approval).
 * Registered on the program by `buildCli` (one line there).
 */
import { type Command, Option } from 'commander';
import { InvalidInputError } from '../errors/index.js';
import type { SoftwareIssuer } from '../app/service.js';
import { createCommandContext } from './command-context.js';
import { load } from './modules.js';
import { cliActor, readFileArg } from './util.js';

interface Io {
  out(text: string): void;
  err(text: string): void;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `1h`, `7d` or a number of seconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match)
    throw new InvalidInputError('ERR_REGISTRATION_TOKEN_OPTIONS', `${flag} "${value}" is not a duration.`, { hint: 'e.g. 90s, 30m, 1h or 7d.', details: { member: 'expiresIn' } });
  return Number(match[1]) * UNITS[match[2] || 's']!;
}

function issuerJson(i: SoftwareIssuer): Record<string, unknown> {
  return {
    name: i.name,
    jwks_uri: i.jwksUri,
    keys: i.jwks?.keys.length ?? null,
    scope: i.scopes.join(' '),
    resources: i.resources,
    environments: i.environments,
    approval: i.approval,
    created_at: i.createdAt.toISOString(),
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerRegistrationCommands(program: Command, { env, io }: { env: Readonly<Record<string, string | undefined>>; io: Io }): void {
  const { withAdmin } = createCommandContext(env, io);

  const tokens = program.command('registration-token').description('initial access tokens for dynamic client registration (RFC 7591): what a partner registers itself with');
  tokens
    .command('create')
    .description('make an initial access token; it is printed once (only its hash is stored)')
    .option('--expires-in <duration>', 'how long it may be used: 90s, 30m, 1h, 7d', '1h')
    .option('--max-uses <n>', 'how many registrations it may make (default: no limit)')
    .option('--scope <scopes>', 'space-separated scopes a registration may ask for')
    .option('--resource <uri>', 'a resource a registered client may use as its default (repeatable; exactly one becomes the default)', collect)
    .option('--environment <env>', "a trust-anchor environment the registrant's certificate must chain to (repeatable; default any)", collect)
    .addOption(new Option('--approval <mode>', 'auto: the client works at once; manual: it awaits certbound client approve').choices(['auto', 'manual']).default('auto'))
    .option('--json', 'JSON output')
    .action(async (opts: { expiresIn: string; maxUses?: string; scope?: string; resource?: string[]; environment?: string[]; approval: 'auto' | 'manual'; json?: boolean }) => {
      const maxUses = opts.maxUses === undefined ? undefined : Number(opts.maxUses);
      const { token, record } = await withAdmin((admin) =>
        admin.createRegistrationToken(
          {
            expiresInS: parseDuration(opts.expiresIn, '--expires-in'),
            maxUses,
            scopes: (opts.scope ?? '').split(/\s+/).filter(Boolean),
            resources: opts.resource,
            environments: opts.environment,
            approval: opts.approval,
          },
          cliActor(),
        ),
      );
      if (opts.json) io.out(JSON.stringify({ token, ...(await load.queries()).registrationTokenJson(record) }, null, 2));
      else {
        io.out(token);
        io.err(
          `initial access token ${record.id}: expires ${record.expiresAt.toISOString()}, ${record.maxUses ?? 'unlimited'} use(s), approval ${record.approval}; it is shown only now`,
        );
      }
    });
  tokens
    .command('list')
    .description('list initial access tokens (never the tokens themselves)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withAdmin((admin) => admin.listRegistrationTokens());
      if (opts.json) {
        const { registrationTokenJson } = await load.queries();
        return io.out(JSON.stringify(list.map(registrationTokenJson), null, 2));
      }
      if (!list.length) return io.out('no initial access tokens');
      for (const t of list) {
        const state = t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= Date.now() ? 'expired' : t.maxUses !== null && t.uses >= t.maxUses ? 'used up' : 'usable';
        io.out(
          `${t.id}  ${state}  uses ${t.uses}/${t.maxUses ?? '∞'}  expires ${t.expiresAt.toISOString()}  approval ${t.approval}  scope "${t.scopes.join(' ')}"  environments ${t.environments.join(',') || 'any'}`,
        );
      }
    });
  tokens
    .command('revoke <id>')
    .description('revoke an initial access token (clients registered with it stay)')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.revokeRegistrationToken(id, cliActor()));
      io.out(`revoked initial access token ${id}`);
    });

  const issuers = program.command('software-issuer').description('issuers of software statements (RFC 7591 §2.3) this server trusts, e.g. an open-banking directory');
  issuers
    .command('add')
    .description("trust an issuer: a statement whose iss is NAME, signed with one of its keys, registers a client; its claims take precedence over the request's members")
    .requiredOption('--name <iss>', 'the iss of its statements')
    .option('--jwks <file>', 'its public signing keys (a JWKS)')
    .option('--jwks-uri <url>', 'where it publishes them (https; fetched now to check it, and for each statement)')
    .option('--scope <scopes>', 'space-separated scopes its statements may register (without an initial access token)')
    .option('--resource <uri>', 'a resource a client it registers may use as its default (repeatable)', collect)
    .option('--environment <env>', "a trust-anchor environment the registrant's certificate must chain to (repeatable; default any)", collect)
    .addOption(new Option('--approval <mode>', 'auto, or manual: its clients await certbound client approve').choices(['auto', 'manual']).default('auto'))
    .action(async (opts: { name: string; jwks?: string; jwksUri?: string; scope?: string; resource?: string[]; environment?: string[]; approval: 'auto' | 'manual' }) => {
      const jwks = opts.jwks === undefined ? undefined : readFileArg(opts.jwks, '--jwks');
      const issuer = await withAdmin((admin) =>
        admin.addSoftwareIssuer(
          {
            name: opts.name,
            jwks,
            jwksUri: opts.jwksUri,
            scopes: (opts.scope ?? '').split(/\s+/).filter(Boolean),
            resources: opts.resource,
            environments: opts.environment,
            approval: opts.approval,
          },
          cliActor(),
        ),
      );
      io.out(`software statement issuer ${issuer.name}: ${issuer.jwksUri ? `keys at ${issuer.jwksUri}` : `${issuer.jwks?.keys.length ?? 0} key(s)`}, approval ${issuer.approval}`);
    });
  issuers
    .command('list')
    .description('list trusted software statement issuers')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withAdmin((admin) => admin.listSoftwareIssuers());
      if (opts.json) return io.out(JSON.stringify(list.map(issuerJson), null, 2));
      io.out(
        list.length
          ? list.map((i) => `${i.name}  ${i.jwksUri ?? `${i.jwks?.keys.length ?? 0} key(s)`}  approval ${i.approval}  scope "${i.scopes.join(' ')}"`).join('\n')
          : 'no software statement issuers',
      );
    });
  issuers
    .command('remove <name>')
    .description('stop trusting an issuer (clients registered with its statements stay)')
    .action(async (name: string) => {
      await withAdmin((admin) => admin.removeSoftwareIssuer(name, cliActor()));
      io.out(`removed software statement issuer ${name}`);
    });

  const client = program.commands.find((c) => c.name() === 'client');
  if (!client) throw new Error('registerRegistrationCommands: the client command is registered first');
  client
    .command('approve <id>')
    .description('approve a client that registered itself and awaits approval: it authenticates from now on')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.approveClient(id, cliActor()));
      io.out(`approved client ${id}`);
    });
  client
    .command('reject <id>')
    .description('reject a client that awaits approval: it is removed')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.rejectClient(id, cliActor()));
      io.out(`rejected and removed client ${id}`);
    });
}
