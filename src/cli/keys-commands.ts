/** `certbound keys list|rotate|retire`: the token signing keys. */
import type { Command } from 'commander';
import { type CommandContext, table } from './command-context.js';
import { cliActor } from './util.js';

export function registerKeysCommands(program: Command, { io, withAdmin, withQueries, print }: CommandContext): void {
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
}
