/**
 * The last refusals this process answered, by ref, so an administrator can look one up from the ref a
 * client was given (GET /admin/refusals/{ref}, the console's Diagnose page) without the server log.
 * Bounded: the oldest goes first. Per process: another replica or a restart does not have it, and the
 * lookup says so.
 */
import type { RecordedRefusal, RefusalLog } from '../admin-api/routes-console.js';

export type { RecordedRefusal };

export function createRecentRefusals(capacity = 1000): RefusalLog & { add(refusal: RecordedRefusal): void } {
  const byRef = new Map<string, RecordedRefusal>();
  const since = new Date();
  return {
    capacity,
    since,
    get size() {
      return byRef.size;
    },
    add(refusal) {
      byRef.delete(refusal.ref);
      byRef.set(refusal.ref, refusal);
      if (byRef.size > capacity) byRef.delete(byRef.keys().next().value!);
    },
    find: (ref) => byRef.get(ref),
  };
}
