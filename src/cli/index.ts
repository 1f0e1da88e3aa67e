/**
 * The `certbound` command. Commands call the admin use cases (never raw SQL) with the same configuration
 * and database as the server. This file assembles the command tree from one file per group of commands
 * (`<group>-commands.ts`, in the order `--help` lists them); what a command loads when it runs is
 * decided in modules.ts, so building the tree (and `--help`) loads none of it.
 */
import { Command, CommanderError } from 'commander';
import { assertSupportedRuntime } from '../runtime.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerAuthorizationCommands } from './authorization-commands.js';
import { registerClientCommands } from './client-commands.js';
import { createCommandContext } from './command-context.js';
import { CliExit, registerDiagnosisCommands } from './diagnose-commands.js';
import { reportCliError } from './error-output.js';
import { cliWording } from './error-wording.js';
import { registerKeysCommands } from './keys-commands.js';
import { registerRegistrationCommands } from './registration-commands.js';
import { registerResourceCommands } from './resource-commands.js';
import type { Io } from './serve.js';
import { registerSetupCommands } from './setup-commands.js';
import { registerTokenCommand } from './token-command.js';
import { registerTrustCommands } from './trust-commands.js';

/**
 * Builds the CLI. `env` is the process environment; `io` receives output (tests capture it).
 *
 * @example
 * await buildCli(process.env, { out: console.log, err: console.error }).parseAsync(process.argv);
 */
export function buildCli(env: Readonly<Record<string, string | undefined>>, io: Io): Command {
  const program = new Command('certbound')
    .description(
      'certbound: an RFC 8705 OAuth 2.0 authorization server (mTLS client authentication, certificate-bound tokens).\nConfiguration comes from CERTBOUND_* environment variables and the optional file named by CERTBOUND_CONFIG (see docs/configuration.md).',
    )
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

  const context = createCommandContext(env, io);
  registerSetupCommands(program, context);
  registerTrustCommands(program, context);
  registerResourceCommands(program, context);
  registerClientCommands(program, context);
  registerKeysCommands(program, context);
  registerAuditCommands(program, context);
  registerAuthorizationCommands(program, context);
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
