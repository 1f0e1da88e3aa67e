/** `certbound audit list`: the audit log of administrative changes. */
import type { Command } from 'commander';
import { InvalidInputError } from '../errors/index.js';
import { type CommandContext, table } from './command-context.js';

export function registerAuditCommands(program: Command, { withAdmin, print }: CommandContext): void {
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
}
