/**
 * The records a running server holds in memory: the trust anchors, the signing keys and the revisions
 * they were read at. A reload reads the revisions (one cheap query) and re-reads only what changed; the
 * composition says what follows a change (new TLS contexts, a new oidc-provider instance).
 */
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { CertboundError } from '../errors/index.js';
import { type Queryable, readRevisions, type SigningKey, signingKeys, type TrustAnchor, trustAnchors } from '../store/index.js';
import type { RevocationManager } from './revocation.js';

export interface ServerStateOptions {
  db: Queryable;
  config: Pick<Config, 'keyEncryptionKey'>;
  logger: Logger;
  /** The CRLs, re-read with the trust anchors (a CRL belongs to an anchor). */
  revocation: Pick<RevocationManager, 'load' | 'contextOutdated'>;
}

/** What follows a change found by {@link ServerState.reload}. */
export interface ReloadEffects {
  /** The trust anchors or CRLs changed: the TLS contexts that ask for client certificates are rebuilt. */
  trustChanged(): void;
  /** The signing keys changed (and one is active): the provider that signs with them is rebuilt. */
  keysChanged(): void;
}

export interface ServerState {
  anchors(): readonly TrustAnchor[];
  /** The trust anchors by certificate x5t#S256 (the mTLS hooks find the anchor a chain ends at). */
  anchorsByThumbprint(): ReadonlyMap<string, TrustAnchor>;
  keys(): readonly SigningKey[];
  /** The keys in the JWKS, for the admin API's token verification (no HTTP round trip to ourselves). */
  publicKeySet(): { keys: JWK[] };
  /** Re-reads what changed since the last read; the effects are applied before it resolves. */
  reload(effects: ReloadEffects): Promise<void>;
}

/**
 * Reads the trust anchors, the signing keys and the revisions. Throws ERR_NO_ACTIVE_KEY when no key
 * could sign a token.
 */
export async function loadServerState({ db, config, logger, revocation }: ServerStateOptions): Promise<ServerState> {
  let anchors: TrustAnchor[] = await trustAnchors.list(db);
  let anchorsByThumbprint = new Map(anchors.map((a) => [a.x5tS256, a]));
  let keys: SigningKey[] = await signingKeys.list(db, config.keyEncryptionKey);
  if (!keys.some((k) => k.status === 'active')) {
    throw new CertboundError('ERR_NO_ACTIVE_KEY', 'There is no active signing key, so no token could be signed.', {
      status: 503,
      hint: 'Run `certbound keys rotate` with the same database (and CERTBOUND_KEY_ENCRYPTION_KEY), then start again; development mode creates one by itself.',
    });
  }
  let revisions = await readRevisions(db);
  let publishedFor: SigningKey[] | undefined;
  let publishedJwks: { keys: JWK[] } = { keys: [] };

  return {
    anchors: () => anchors,
    anchorsByThumbprint: () => anchorsByThumbprint,
    keys: () => keys,
    publicKeySet() {
      if (publishedFor !== keys) {
        publishedJwks = { keys: keys.map((k) => k.publicJwk) };
        publishedFor = keys;
      }
      return publishedJwks;
    },
    async reload(effects) {
      const next = await readRevisions(db);
      if (next.trust_anchors !== revisions.trust_anchors || revocation.contextOutdated()) {
        anchors = await trustAnchors.list(db);
        await revocation.load();
        anchorsByThumbprint = new Map(anchors.map((a) => [a.x5tS256, a]));
        effects.trustChanged();
        logger.info({ event: 'trust_anchors_reloaded', count: anchors.length }, 'trust anchors reloaded');
      }
      if (next.signing_keys !== revisions.signing_keys) {
        const loaded = await signingKeys.list(db, config.keyEncryptionKey);
        if (loaded.some((k) => k.status === 'active')) {
          keys = loaded;
          effects.keysChanged();
          logger.info({ event: 'signing_keys_reloaded', kids: keys.map((k) => `${k.kid}:${k.status}`) }, 'signing keys reloaded');
        } else {
          logger.error({ event: 'signing_keys_no_active' }, 'signing keys changed but none is active; keeping the previous keys');
        }
      }
      revisions = next;
    },
  };
}
