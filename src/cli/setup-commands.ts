/**
 * `certbound serve`, `migrate` and `dev-pki` (with `dev-pki issue-client`): running the server, its
 * database schema and a development PKI.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError } from '../errors/index.js';
import type { CommandContext } from './command-context.js';
import { load } from './modules.js';
import { withStorageErrors } from './util.js';

/** `word` as one shell word: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function registerSetupCommands(program: Command, { env, io }: CommandContext): void {
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
    .description(
      'write a development PKI: root CA, intermediate CA (with its key, to issue more clients), server certificate (localhost, 127.0.0.1, ::1) and a client certificate, with a README',
    )
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
        throw new InvalidInputError(
          'ERR_DEV_PKI_EXISTS',
          `${dir} already holds PKI files (${present.join(', ')}); a new PKI would replace their keys, and whatever trusts or uses them would stop working.`,
          {
            hint: 'Pick another --out, or pass --force to replace them.',
          },
        );
      }
      const files = await generateDevPki(dir);
      io.out(`wrote ${Object.values(files.paths).join(', ')}`);
    });
  devPki
    .command('issue-client')
    .description(
      "development mode only: issue a new test client certificate and key from the dev PKI's issuing CA (EKU clientAuth), and print the `certbound client add` line that maps it",
    )
    .requiredOption('--name <name>', 'client name: file names, default subject CN=<name>,O=certbound development, default DNS SAN <name>.certbound.test')
    .option('--san-dns <names...>', 'DNS SANs instead of the default one')
    .option(
      '--subject <dn>',
      'subject DN in RFC 4514 (most specific RDN first), e.g. "CN=orders-worker,O=Acme"; with --subject and no --san-dns the certificate has no SAN and is mapped by subject DN',
    )
    .option('--pki <dir>', 'the development PKI (default: <data dir>/dev-pki, the one the server creates in development mode)')
    .action(async (opts: { name: string; sanDns?: string[]; subject?: string; pki?: string }) => {
      const [{ loadConfig }, { issueDevClient }] = await Promise.all([load.config(), load.devPki()]);
      const cfg = loadConfig({ env });
      if (cfg.env !== 'development') {
        throw new InvalidInputError(
          'ERR_DEV_PKI_NOT_DEVELOPMENT',
          'dev-pki issue-client issues test certificates in development mode only; this configuration is production (CERTBOUND_ENV).',
          {
            hint: 'In production, have your own CA issue the client certificate, then map it with `certbound client add --from-cert FILE --match …`.',
          },
        );
      }
      const issued = await issueDevClient(path.resolve(opts.pki ?? path.join(cfg.dataDir, 'dev-pki')), { name: opts.name, sanDns: opts.sanDns, subject: opts.subject });
      io.out(
        `issued ${issued.subject}${issued.sanDns.length ? ` (DNS SAN ${issued.sanDns.join(', ')})` : ''}, EKU clientAuth, valid until ${issued.notAfter.toISOString()}, x5t#S256 ${issued.x5tS256}`,
      );
      io.out(`  certificate (followed by the issuing CA): ${issued.certPath}`);
      io.out(`  private key: ${issued.keyPath}`);
      io.out('Register it, for the demo API that development mode registers (for your own API, change --scope and --resource):');
      io.out(`  certbound ${issued.clientAddArgs.map(shellWord).join(' ')}`);
    });
}
