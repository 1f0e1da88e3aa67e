/**
 * Records the certificate each client authenticates with (per mapping), at most once per client per
 * minute and never on the request's critical path: `record` only queues; the write happens afterwards.
 * And reads them back, one per client, for the metrics.
 */
import type { Logger } from 'pino';
import { type LastSeenCertificate, lastSeen, listLastSeen, type Queryable } from '../store/index.js';

const MAX_TRACKED_CLIENTS = 100_000;

export function createLastSeenRecorder({
  db,
  logger,
  minIntervalMs = 60_000,
  now = () => Date.now(),
}: {
  db: Queryable;
  logger: Logger;
  minIntervalMs?: number;
  now?: () => number;
}) {
  /** client id → time of its last queued write. */
  const lastQueued = new Map<string, number>();
  const pending = new Map<string, LastSeenCertificate>();
  let flushing: Promise<void> | undefined;
  let scheduled = false;

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = [...pending.values()];
    pending.clear();
    for (const seen of batch) {
      try {
        await lastSeen.upsert(db, seen);
      } catch (err) {
        logger.warn({ event: 'last_seen_failed', err, client_id: seen.clientId }, 'recording the last-seen certificate failed');
      }
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      flushing = (flushing ?? Promise.resolve()).then(flush);
    });
  }

  return {
    /** Queues the write unless this client was recorded less than `minIntervalMs` ago. */
    record(seen: Omit<LastSeenCertificate, 'seenAt'>): void {
      const t = now();
      const previous = lastQueued.get(seen.clientId);
      if (previous !== undefined && t - previous < minIntervalMs) return;
      lastQueued.delete(seen.clientId);
      lastQueued.set(seen.clientId, t);
      if (lastQueued.size > MAX_TRACKED_CLIENTS) lastQueued.delete(lastQueued.keys().next().value as string);
      pending.set(`${seen.clientId}\u0000${seen.mappingId ?? ''}`, { ...seen, seenAt: new Date(t) });
      schedule();
    },
    /** Waits for queued writes (shutdown, tests). */
    async flush(): Promise<void> {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await flushing;
      if (pending.size) await flush();
    },
  };
}

export type LastSeenRecorder = ReturnType<typeof createLastSeenRecorder>;

/** Per client, the certificate seen last (a client may have several mappings, each with its last certificate): the metrics gauge. */
export async function lastSeenPerClient(db: Queryable): Promise<LastSeenCertificate[]> {
  const latest = new Map<string, LastSeenCertificate>();
  for (const seen of await listLastSeen(db)) {
    const known = latest.get(seen.clientId);
    if (!known || seen.seenAt > known.seenAt) latest.set(seen.clientId, seen);
  }
  return [...latest.values()];
}
