/**
 * CLI commands for dynamic client registration: `certbound registration-token create|list|revoke`
 * (initial access tokens) and `certbound client approve|reject` (registrations that await approval).
 * Registered on the program by `buildCli` (one line there).
 */
import { type Command, Option } from 'commander';
import type { Config } from '../config/index.js';
import { InvalidInputError } from '../errors/index.js';
import type { AdminService, RegistrationTokenView } from '../app/service.js';
import type { Db } from '../store/index.js';
import { load } from './modules.js';
import { cliActor, withDatabase } from './util.js';

interface Io {
  out(text: string): void;
  err(text: string): void;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `1h`, `7d` or a number of seconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new InvalidInputError('ERR_REGISTRATION_TOKEN_OPTIONS', `${flag} "${value}" is not a duration.`, { hint: 'e.g. 90s, 30m, 1h or 7d.', details: { member: 'expiresIn' } });
  return Number(match[1]) * UNITS[match[2] || 's']!;
}

function tokenJson(t: RegistrationTokenView): Record<string, unknown> {
  return {
    id: t.id,
    expires_at: t.expiresAt.toISOString(),
    max_uses: t.maxUses,
    uses: t.uses,
    scope: t.scopes.join(' '),
    resources: t.resources,
    environments: t.environments,
    approval: t.approval,
    created_by: t.createdBy,
    created_at: t.createdAt.toISOString(),
    revoked_at: t.revokedAt?.toISOString() ?? null,
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerRegistrationCommands(program: Command, { env, io }: { env: Readonly<Record<string, string | undefined>>; io: Io }): void {
  const withAdmin = async <T>(fn: (admin: AdminService) => Promise<T>): Promise<T> => {
    const { createAdminService } = await load.admin();
    return withDatabase(env, (db: Db, cfg: Config) => fn(createAdminService({ db, keyEncryptionKey: cfg.keyEncryptionKey, signingAlg: cfg.signingAlg })));
  };

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
      if (opts.json) io.out(JSON.stringify({ token, ...tokenJson(record) }, null, 2));
      else {
        io.out(token);
        io.err(`initial access token ${record.id}: expires ${record.expiresAt.toISOString()}, ${record.maxUses ?? 'unlimited'} use(s), approval ${record.approval}; it is shown only now`);
      }
    });
  tokens
    .command('list')
    .description('list initial access tokens (never the tokens themselves)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withAdmin((admin) => admin.listRegistrationTokens());
      if (opts.json) return io.out(JSON.stringify(list.map(tokenJson), null, 2));
      if (!list.length) return io.out('no initial access tokens');
      for (const t of list) {
        const state = t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= Date.now() ? 'expired' : t.maxUses !== null && t.uses >= t.maxUses ? 'used up' : 'usable';
        io.out(`${t.id}  ${state}  uses ${t.uses}/${t.maxUses ?? '∞'}  expires ${t.expiresAt.toISOString()}  approval ${t.approval}  scope "${t.scopes.join(' ')}"  environments ${t.environments.join(',') || 'any'}`);
      }
    });
  tokens
    .command('revoke <id>')
    .description('revoke an initial access token (clients registered with it stay)')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.revokeRegistrationToken(id, cliActor()));
      io.out(`revoked initial access token ${id}`);
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
