/**
 * What the command groups (`<group>-commands.ts`) share: the use cases a command reaches when it runs
 * (loaded through modules.ts, so building the tree loads none of them) and the output helpers.
 */
import type { AdminQueries } from '../app/queries.js';
import type { AdminService } from '../app/service.js';
import type { Config } from '../config/index.js';
import { InvalidInputError } from '../errors/index.js';
import { load } from './modules.js';
import type { Io } from './serve.js';
import { withDatabase, withReadOnlyDatabase } from './util.js';

export interface CommandContext {
  /** The process environment (the configuration comes from it). */
  env: Readonly<Record<string, string | undefined>>;
  io: Io;
  /** Runs `fn` with the admin use cases that change records, on the configured database (migrated first). */
  withAdmin<T>(fn: (admin: AdminService, cfg: Config) => Promise<T>): Promise<T>;
  /** The listings: the read-only use cases, on the drivers when the database is current (util.ts). */
  withQueries<T>(fn: (queries: AdminQueries) => Promise<T>): Promise<T>;
  /** Prints `value` as JSON with `--json`, else the text `human` makes. */
  print(value: unknown, json: boolean | undefined, human: () => string): void;
}

/**
 * @example
 * const ctx = createCommandContext(process.env, { out: console.log, err: console.error });
 * await ctx.withQueries((queries) => queries.listClients());
 */
export function createCommandContext(env: Readonly<Record<string, string | undefined>>, io: Io): CommandContext {
  return {
    env,
    io,
    async withAdmin(fn) {
      const { createAdminService } = await load.admin();
      return withDatabase(env, (db, cfg) =>
        fn(
          createAdminService({
            db,
            keyEncryptionKey: cfg.keyEncryptionKey,
            signingAlg: cfg.signingAlg,
            outboundCaFile: cfg.outboundCaFile,
            jwksUriAllowedRanges: cfg.jwksUriAllowedRanges,
          }),
          cfg,
        ),
      );
    },
    async withQueries(fn) {
      const { createAdminQueries } = await load.queries();
      return withReadOnlyDatabase(env, (db) => fn(createAdminQueries({ db })));
    },
    print: (value, json, human) => io.out(json ? JSON.stringify(value, null, 2) : human()),
  };
}

/** Rows as columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function splitScopes(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}

/** The date a flag names, in ISO 8601; undefined when the flag was not given. */
export function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new InvalidInputError('ERR_DATE_INVALID', `${flag} "${value}" is not a date`, { hint: 'Use ISO 8601, e.g. 2027-01-31 or 2027-01-31T12:00:00Z.' });
  return d;
}
