/** `certbound trust add|list|remove`: the trust anchors (their CRLs: `trust crl …`, diagnose-commands.ts). */
import type { Command } from 'commander';
import { type CommandContext, table } from './command-context.js';
import { cliActor, readFileArg } from './util.js';

export function registerTrustCommands(program: Command, { io, withAdmin, withQueries, print }: CommandContext): void {
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
      io.out(
        `trusted ${a.name}: ${a.subject} (SPKI SHA-256 ${a.spkiSha256}, expires ${a.notAfter.toISOString()})${a.allowMissingEku ? '; client certificates without EKU are accepted' : ''}`,
      );
    });
  trust
    .command('list')
    .description('list trust anchors')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withQueries((queries) => queries.listTrustAnchors());
      print(
        list.map((a) => ({
          name: a.name,
          subject: a.subject,
          environment: a.environment,
          allow_missing_eku: a.allowMissingEku,
          spki_sha256: a.spkiSha256,
          x5t_s256: a.x5tS256,
          not_after: a.notAfter.toISOString(),
        })),
        opts.json,
        () =>
          list.length
            ? table([['NAME', 'ENV', 'SUBJECT', 'EXPIRES'], ...list.map((a) => [a.name, a.environment ?? '-', a.subject, a.notAfter.toISOString().slice(0, 10)])])
            : 'no trust anchors',
      );
    });
  trust
    .command('remove <name>')
    .description('stop trusting a CA (refused while mappings pin it)')
    .action(async (name: string) => {
      await withAdmin((admin) => admin.removeTrustAnchor(name, cliActor()));
      io.out(`removed trust anchor ${name}`);
    });
}
