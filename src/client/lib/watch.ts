import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { CertboundClientError } from '../errors.js';

export interface CredentialWatcher {
  close(): void;
}

export interface WatchOptions<T> {
  /** Fallback for file systems where change events are missed (network mounts, some containers). Default 2000 ms. */
  pollIntervalMs?: number | undefined;
  /** Certificate and key are written one after the other: wait this long after a change before reading. Default 200 ms. */
  settleMs?: number;
  load(): T;
  isCurrent(loaded: T): boolean;
  onLoaded(loaded: T): void;
  onError(error: CertboundClientError): void;
}

function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

/**
 * Watches certificate and key files: the directories (a rotation that renames a new file into place
 * replaces the inode a file watch would follow), plus a stat poll. After a change it loads the pair; one
 * that loads and differs goes to `onLoaded`, one that fails goes to `onError` once per distinct reason
 * (a half-written rotation is reported, not repeated on every poll).
 */
export function watchCredentialFiles<T>(files: readonly string[], options: WatchOptions<T>): CredentialWatcher {
  const settleMs = options.settleMs ?? 200;
  const names = new Set(files.map((f) => basename(f)));
  let seen = files.map(signature).join('|');
  let lastReported: string | undefined;
  let settle: NodeJS.Timeout | undefined;
  let closed = false;

  const check = () => {
    settle = undefined;
    if (closed) return;
    seen = files.map(signature).join('|');
    let loaded: T;
    try {
      loaded = options.load();
    } catch (err) {
      const error =
        err instanceof CertboundClientError
          ? err
          : new CertboundClientError('CERTIFICATE_UNREADABLE', `the rotated certificate files could not be loaded: ${(err as Error).message}`, {
              hint: 'Write the certificate and its key again.',
              cause: err,
            });
      if (error.message !== lastReported) {
        lastReported = error.message;
        options.onError(
          new CertboundClientError(error.code, `certificate rotation not applied, the previous certificate stays in use: ${error.message}`, {
            hint: error.hint ?? 'Write the certificate and its key again.',
            cause: error,
          }),
        );
      }
      return;
    }
    lastReported = undefined;
    if (!options.isCurrent(loaded)) options.onLoaded(loaded);
  };
  const schedule = () => {
    if (closed) return;
    if (settle) settle.refresh();
    else {
      settle = setTimeout(check, settleMs);
      settle.unref();
    }
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        if (filename === null || names.has(String(filename))) schedule();
      });
      // A watch that breaks (directory removed, too many watches) leaves the poll in charge.
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {}
  }
  // The poll only starts a settle delay; restarting one on every tick would postpone it forever when the
  // poll is faster than the settle delay.
  const poll = setInterval(() => {
    if (!settle && files.map(signature).join('|') !== seen) schedule();
  }, options.pollIntervalMs ?? 2000);
  poll.unref();

  return {
    close() {
      closed = true;
      clearInterval(poll);
      if (settle) clearTimeout(settle);
      for (const w of watchers) w.close();
    },
  };
}
