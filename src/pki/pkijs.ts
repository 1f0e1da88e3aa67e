/**
 * pkijs is needed only for CRLs and for validating chains forwarded by a proxy (`validate` mode); it
 * costs about 3.5 MB of heap once loaded, so it is loaded on first use instead of at start.
 */
import type * as Pkijs from 'pkijs';

let loaded: Promise<typeof Pkijs> | undefined;

export function loadPkijs(): Promise<typeof Pkijs> {
  loaded ??= import('pkijs');
  return loaded;
}
