/**
 * End users' consents: what a user allowed a client on the consent page, remembered per user and
 * client so that the page is not shown again. An administrator lists them and revokes one; revoking
 * also revokes that user's tokens at that client (refresh tokens included), and the next sign-in asks
 * for consent again.
 */
import { NotFoundError } from '../errors/index.js';
import { consents, type Db, refreshTokens, type UserConsent, writeAudit } from '../store/index.js';

export interface ConsentFilter {
  clientId?: string | undefined;
  /** The user: the `sub` certbound issues (the upstream provider's subject claim). */
  accountId?: string | undefined;
}

/**
 * @example
 * const { revokedTokens } = await createConsentUseCases({ db }).revokeConsent('mobile-app', 'alice', 'cli:ops');
 */
export function createConsentUseCases({ db }: { db: Db }) {
  return {
    /** By client, then user. */
    listConsents: (filter: ConsentFilter = {}): Promise<UserConsent[]> => consents.list(db, filter),

    /**
     * Removes the consent of `accountId` to `clientId` and revokes every token of that user at that
     * client (access tokens, refresh tokens, codes): returns the consent and how many were revoked.
     */
    async revokeConsent(clientId: string, accountId: string, actor: string): Promise<{ consent: UserConsent; revokedTokens: number }> {
      return db.transaction(async (trx) => {
        const consent = await consents.find(trx, accountId, clientId);
        if (!consent) {
          throw new NotFoundError('ERR_CONSENT_UNKNOWN', `User "${accountId}" has no consent to client "${clientId}".`, { details: { clientId, accountId } });
        }
        await consents.remove(trx, accountId, clientId);
        const revokedTokens = await refreshTokens.revokeFor(trx, accountId, clientId);
        await writeAudit(trx, { actor, action: 'consent.revoke', target: `consent:${clientId}:${accountId}`, before: consent, after: { revokedTokens } });
        return { consent, revokedTokens };
      });
    },
  };
}

export type ConsentUseCases = ReturnType<typeof createConsentUseCases>;
