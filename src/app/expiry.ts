/**
 * What ends soon (docs/concepts.md, "Expiry"): the certificates clients last authenticated with, and the mappings
 * whose not_after falls within a window. `certbound certs expiring --within 30d`.
 */
import { InvalidInputError } from '../errors/index.js';
import { clients, type Db, lastSeen } from '../store/index.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const DAY_MS = 86_400_000;

/** `30d`, `12h`, `2w`, `90m`, or a plain number of days → milliseconds. */
export function parseWindow(text: string): number {
  const m = /^\s*(\d+)\s*([mhdw]?)\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0) {
    throw new InvalidInputError('ERR_WINDOW_INVALID', `"${text}" is not a duration.`, {
      hint: 'Use a number with a unit: 30d, 12h, 2w (m, h, d, w); a bare number means days.',
      details: { member: 'within', value: text },
    });
  }
  return Number(m[1]) * UNIT_MS[m[2] || 'd']!;
}

export interface ExpiringCertificate {
  client_id: string;
  mapping_id: string | null;
  'x5t#S256': string;
  subject: string;
  not_after: string;
  days_remaining: number;
  expired: boolean;
  last_seen: string;
}

export interface ExpiringMapping {
  client_id: string;
  mapping_id: string;
  kind: string;
  value: string;
  not_after: string;
  days_remaining: number;
  expired: boolean;
  /** Another mapping of the client valid past the window (a staged replacement), when there is one. */
  replaced_by: string | null;
}

export interface ExpiringReport {
  now: string;
  until: string;
  certificates: ExpiringCertificate[];
  mappings: ExpiringMapping[];
}

const days = (end: Date, now: Date) => Math.floor((end.getTime() - now.getTime()) / DAY_MS);

/**
 * Clients whose most recently seen certificate ends before `now + withinMs` (already expired included),
 * and mappings whose not_after is within the window (ended ones since `now - withinMs` included).
 *
 * @example
 * const report = await expiringReport(db, { withinMs: parseWindow('30d') });
 * for (const c of report.certificates) console.log(c.client_id, c.not_after, c.days_remaining);
 */
export async function expiringReport(db: Db, options: { withinMs: number; now?: Date }): Promise<ExpiringReport> {
  const now = options.now ?? new Date();
  const until = new Date(now.getTime() + options.withinMs);
  // One row per client: the certificate it authenticated with most recently.
  const latest = new Map<string, Awaited<ReturnType<typeof lastSeen.list>>[number]>();
  for (const s of await lastSeen.list(db)) {
    const prev = latest.get(s.clientId);
    if (!prev || s.seenAt.getTime() > prev.seenAt.getTime()) latest.set(s.clientId, s);
  }
  const certificates: ExpiringCertificate[] = [...latest.values()]
    .filter((s) => s.notAfter.getTime() <= until.getTime())
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime())
    .map((s) => ({
      client_id: s.clientId,
      mapping_id: s.mappingId,
      'x5t#S256': s.x5tS256,
      subject: s.subject,
      not_after: s.notAfter.toISOString(),
      days_remaining: days(s.notAfter, now),
      expired: s.notAfter.getTime() < now.getTime(),
      last_seen: s.seenAt.toISOString(),
    }));
  const mappings: ExpiringMapping[] = [];
  for (const c of await clients.list(db)) {
    for (const m of c.mappings) {
      if (!m.notAfter || m.notAfter.getTime() > until.getTime() || m.notAfter.getTime() < now.getTime() - options.withinMs) continue;
      const replacement = c.mappings.find((o) => o.id !== m.id && (!o.notAfter || o.notAfter.getTime() > until.getTime()));
      mappings.push({
        client_id: c.clientId,
        mapping_id: m.id,
        kind: m.kind,
        value: m.value,
        not_after: m.notAfter.toISOString(),
        days_remaining: days(m.notAfter, now),
        expired: m.notAfter.getTime() < now.getTime(),
        replaced_by: replacement?.id ?? null,
      });
    }
  }
  mappings.sort((a, b) => a.not_after.localeCompare(b.not_after));
  return { now: now.toISOString(), until: until.toISOString(), certificates, mappings };
}
