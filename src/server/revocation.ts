/**
 * CRLs on the server (PKI-5): the verified CRLs loaded from the store, handed to OpenSSL through Node's
 * `crl` option of the mTLS listener's secure context (reloaded with setSecureContext), refreshed from
 * their sources before their nextUpdate, and a per-request lookup for what OpenSSL does not see again
 * (resumed TLS sessions) or at all (forwarded certificates).
 *
 * Node always sets OpenSSL's CRL_CHECK and CRL_CHECK_ALL together: once a CRL is in the context, every
 * certificate below a trust anchor needs a current CRL from its issuer, and a stale CRL refuses the
 * certificates it covers (fail-closed). With CERTBOUND_CRL_STALE=fail-open, a stale CRL takes all CRLs out
 * of the TLS context (OpenSSL cannot skip just one) and the lookup refuses only listed certificates.
 */
import type { Logger } from 'pino';
import { type FetchCrl, fetchCrlSource, loadVerifiedCrls, refreshStoredCrl } from '../revocation/index.js';
import { checkRevocation, type CrlStalePolicy, crlToPem, type RevocationMode, revocationMode, type VerifiedCrl } from '../pki/index.js';
import type { CrlRecord, Queryable } from '../store/index.js';
import type { PeerCertificate } from './peer-certificate.js';

export interface RevocationManagerOptions {
  db: Queryable;
  logger: Logger;
  stalePolicy: CrlStalePolicy;
  /** How often a source is read again (CERTBOUND_CRL_REFRESH_INTERVAL_MS). */
  refreshIntervalMs: number;
  fetchCrl?: FetchCrl;
  now?: () => Date;
}

export function createRevocationManager({ db, logger, stalePolicy, refreshIntervalMs, fetchCrl = fetchCrlSource, now = () => new Date() }: RevocationManagerOptions) {
  let records: CrlRecord[] = [];
  let crls: VerifiedCrl[] = [];
  /** What the TLS context was last built with. */
  let applied = '';
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  const stateKey = (at: Date) => `${revocationMode(crls, stalePolicy, at)}|${crls.map((c) => c.sha256Hex).join(',')}`;

  async function load(): Promise<void> {
    const loaded = await loadVerifiedCrls(db);
    for (const f of loaded.failed) {
      logger.error({ event: 'crl_invalid', crl_id: f.record.id, anchor: f.record.trustAnchorName, error: f.error }, 'a stored CRL does not verify; it is ignored');
    }
    records = loaded.records;
    crls = loaded.crls;
  }

  /** Due when the source was last read a refresh interval ago, or (every minute) when nextUpdate is near or past. */
  function due(record: CrlRecord, at: Date): boolean {
    const t = at.getTime();
    if (t - record.lastAttemptAt.getTime() < Math.min(refreshIntervalMs, 60_000)) return false;
    if (t - record.fetchedAt.getTime() >= refreshIntervalMs) return true;
    return record.nextUpdate !== null && record.nextUpdate.getTime() - t <= refreshIntervalMs;
  }

  async function refreshDue(): Promise<void> {
    const at = now();
    for (const record of records.filter((r) => due(r, at))) {
      try {
        const result = await refreshStoredCrl(db, record, { fetchCrl, now: at });
        if (result === 'updated') logger.info({ event: 'crl_refreshed', crl_id: record.id, anchor: record.trustAnchorName, issuer: record.issuerSubject }, 'CRL refreshed');
      } catch (err) {
        logger.warn(
          { event: 'crl_refresh_failed', crl_id: record.id, anchor: record.trustAnchorName, source: record.source, error: (err as Error).message },
          'CRL refresh failed; the stored CRL stays in use',
        );
      }
    }
    // Record the attempt times locally too, so a failing source is not retried on every tick.
    records = records.map((r) => (due(r, at) ? { ...r, lastAttemptAt: at } : r));
  }

  return {
    load,

    /** The loaded, verified CRLs. */
    crls: (): readonly VerifiedCrl[] => crls,

    mode: (at = now()): RevocationMode => revocationMode(crls, stalePolicy, at),

    /** Secure-context options for the mTLS listener: `crl` when revocation is enforced by OpenSSL. */
    tlsOptions(at = now()): { crl?: string[] } {
      applied = stateKey(at);
      if (revocationMode(crls, stalePolicy, at) !== 'enforce') return {};
      return { crl: crls.map((c) => crlToPem(c.der)) };
    },

    /** True when the TLS context should be rebuilt (e.g. a CRL turned stale under fail-open). */
    contextOutdated: (at = now()): boolean => applied !== '' && stateKey(at) !== applied,

    /** The mTLS hook's check: the leaf listed in a CRL; for forwarded certificates also missing or stale CRLs. */
    check(peer: PeerCertificate): { code: string; message: string } | undefined {
      const leaf = peer.parsed;
      if (!leaf || crls.length === 0) return undefined;
      const at = now();
      const mode = revocationMode(crls, stalePolicy, at);
      const r = checkRevocation(leaf, crls, at);
      if (r.status === 'revoked') {
        return {
          code: 'REVOKED',
          message: `The client certificate (serial ${leaf.serialNumber}) was revoked on ${r.entry.revokedAt.toISOString()}${r.entry.reason ? ` (${r.entry.reason})` : ''}, per the CRL of ${r.crl.issuerRfc4514}; the client needs a new certificate.`,
        };
      }
      // The TLS handshake already enforced CRL presence and freshness for its own chains.
      if (!peer.forwarded || mode !== 'enforce') return undefined;
      if (r.status === 'no_crl')
        return {
          code: 'CRL_UNAVAILABLE',
          message: `CRL checking is on and there is no CRL of ${leaf.issuerRfc4514}, the issuer of the client certificate; add it with certbound trust crl add.`,
        };
      if (r.status === 'stale')
        return {
          code: 'CRL_STALE',
          message: `The CRL of ${r.crl.issuerRfc4514} is past its nextUpdate (${r.crl.nextUpdate?.toISOString()}); check its source (certbound trust crl list).`,
        };
      return undefined;
    },

    /** Starts the refresh timer (unref'd). */
    start(): void {
      const period = Math.max(1000, Math.min(refreshIntervalMs, 60_000));
      timer = setInterval(() => {
        if (refreshing) return;
        refreshing = refreshDue()
          .catch((err: unknown) => logger.error({ event: 'crl_refresh_failed', err }, 'CRL refresh failed'))
          .finally(() => {
            refreshing = undefined;
          });
      }, period);
      timer.unref();
    },

    refreshDue,

    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      await refreshing;
    },
  };
}

export type RevocationManager = ReturnType<typeof createRevocationManager>;
