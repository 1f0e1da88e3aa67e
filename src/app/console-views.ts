/**
 * What the admin console shows beside the records: expiring certificates and mappings, a client's
 * last-seen certificates, and the CRLs of every trust anchor (with their removal). Each is a view over
 * a use case that exists for the CLI too (`certbound certs expiring`, `certbound trust crl …`).
 */
import { type Db, lastSeen } from '../store/index.js';
import { createCrlService } from './crls.js';
import { expiringReport } from './expiry.js';

export function createConsoleViews({ db }: { db: Db }) {
  return {
    /** Certificates and mappings that end within `withinMs` (`certbound certs expiring`). */
    expiring: (withinMs: number, now?: Date) => expiringReport(db, { withinMs, ...(now ? { now } : {}) }),
    /** The certificates a client last authenticated with, one per mapping. */
    lastSeen: async (clientId: string) => (await lastSeen.list(db)).filter((s) => s.clientId === clientId),
    /** The CRLs of every trust anchor (`certbound trust crl list`). */
    listCrls: () => createCrlService({ db }).listCrls(),
    /** Stops checking a trust anchor's certificates against one of its CRLs (`certbound trust crl remove`). */
    removeCrl: (anchorName: string, id: string, actor: string) => createCrlService({ db }).removeCrl(anchorName, id, actor),
  };
}
