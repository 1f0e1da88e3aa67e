/** What every route file of the admin API is built with, and the small conversions they share. */
import type { z } from 'zod';
import type { Diagnosis } from '../../diagnose/index.js';
import type { AdminService, MappingInput } from '../../app/service.js';
import type { RouteInput } from '../router.js';
import type { MappingInputSchema } from '../schemas.js';

export interface AdminRoutesOptions {
  service: AdminService;
  /** The admin API's own resource identifier: it cannot be removed or lose its scopes through the API. */
  adminResource: string;
  /** Called after a change a running server caches (trust anchors, signing keys), so it applies now. */
  onChange?: (what: 'trust_anchors' | 'signing_keys') => Promise<void>;
  /** The diagnosis engine over the server's trust anchors, CRLs and clients (`certbound doctor`'s). */
  diagnose?: (input: DiagnoseCall) => Promise<Diagnosis>;
}

export interface DiagnoseCall {
  leaf: Buffer;
  chain: Buffer[];
  clientId: string | undefined;
  now: Date;
}

/** The options, with `changed` telling a running server what to reload. */
export interface RouteContext extends AdminRoutesOptions {
  changed(what: 'trust_anchors' | 'signing_keys'): Promise<void>;
}

export const ok = (body: unknown) => ({ status: 200, body });

/** A `scope` member (space-separated) as a list. */
export function scopeList(scope: string | undefined): string[] | undefined {
  return scope === undefined ? undefined : scope.split(' ').filter(Boolean);
}

export function mappingInput(m: z.output<typeof MappingInputSchema>): MappingInput {
  return {
    kind: m.kind as MappingInput['kind'],
    value: m.value,
    trustAnchor: m.trust_anchor,
    notBefore: m.not_before === undefined ? undefined : new Date(m.not_before),
    notAfter: m.not_after === undefined ? undefined : new Date(m.not_after),
    allowOverlap: m.allow_overlap,
  };
}

/** The actor of a write route (its access is `write`, so the principal is always there). */
export function actorOf(input: RouteInput<unknown, unknown, unknown>): string {
  return input.principal!.actor;
}
