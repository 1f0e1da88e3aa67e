/**
 * What the server does on its own, on timers that never keep the process alive (unref'd): the reload
 * poll (trust anchors, CRLs and signing keys changed by the CLI, the admin API or another replica) and
 * the purge of expired tokens.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { purgeExpiredPayloads, type Queryable } from '../store/index.js';
import type { FailureLog } from './failures.js';

export interface TimersOptions {
  config: Pick<Config, 'reloadIntervalMs' | 'purgeIntervalMs'>;
  db: Queryable;
  logger: Logger;
  failures: FailureLog;
  reload(): Promise<void>;
}

/** Starts the timers; the returned function stops them. */
export function startTimers({ config, db, logger, failures, reload }: TimersOptions): () => void {
  let reloading = false;
  const reloadTimer = setInterval(() => {
    if (reloading) return;
    reloading = true;
    reload()
      .catch((err: unknown) =>
        failures.record(
          'reload_failed',
          err,
          `reload failed (${(err as Error).message}); the server keeps its current trust anchors and keys and tries again in ${config.reloadIntervalMs} ms`,
        ),
      )
      .finally(() => {
        reloading = false;
      });
  }, config.reloadIntervalMs);
  reloadTimer.unref();
  const purgeTimer = setInterval(() => {
    purgeExpiredPayloads(db)
      .then((n) => n && logger.debug({ event: 'tokens_purged', purged: n }, 'expired tokens purged'))
      .catch((err: unknown) => failures.record('purge_failed', err, 'purge of expired tokens failed; it is tried again at the next interval'));
  }, config.purgeIntervalMs);
  purgeTimer.unref();
  return () => {
    clearInterval(reloadTimer);
    clearInterval(purgeTimer);
  };
}
