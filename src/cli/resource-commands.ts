/** `certbound resource add|list|remove`: the resource servers (token audiences). */
import { type Command, Option } from 'commander';
import { type CommandContext, splitScopes, table } from './command-context.js';
import { cliActor } from './util.js';

export function registerResourceCommands(program: Command, { io, withAdmin, withQueries, print }: CommandContext): void {
  const resource = program.command('resource').description('manage resource servers (token audiences)');
  resource
    .command('add')
    .description('register (or update) a resource server')
    .requiredOption('--id <uri>', 'resource indicator, e.g. https://api.example.com (RFC 8707); becomes the token aud')
    .requiredOption('--scope <scopes>', 'space-separated scopes the resource offers')
    .addOption(new Option('--format <format>', 'access token format').choices(['jwt', 'opaque']).default('jwt'))
    .option('--ttl <seconds>', 'access token lifetime in seconds (10-86400)')
    .option(
      '--introspection-clients <ids>',
      'space-separated client ids the resource server introspects its tokens as (besides each token\'s own client); "" removes them; omitted: unchanged',
    )
    .action(async (opts: { id: string; scope: string; format: 'jwt' | 'opaque'; ttl?: string; introspectionClients?: string }) => {
      const ttl = opts.ttl === undefined ? undefined : Number(opts.ttl);
      const introspectionClients = opts.introspectionClients === undefined ? undefined : splitScopes(opts.introspectionClients);
      const rs = await withAdmin((admin) =>
        admin.addResourceServer({ identifier: opts.id, scopes: splitScopes(opts.scope), tokenFormat: opts.format, ttl, introspectionClients }, cliActor()),
      );
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
        () =>
          list.length
            ? table([
                ['ID', 'FORMAT', 'TTL', 'SCOPES', 'INTROSPECTION CLIENTS'],
                ...list.map((r) => [r.identifier, r.tokenFormat, r.ttl ? String(r.ttl) : 'default', r.scopes.join(' '), r.introspectionClients.join(' ') || '-']),
              ])
            : 'no resource servers',
      );
    });
  resource
    .command('remove <id>')
    .description('remove a resource server')
    .action(async (id: string) => {
      await withAdmin((admin) => admin.removeResourceServer(id, cliActor()));
      io.out(`removed resource ${id}`);
    });
}
