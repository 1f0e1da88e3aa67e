/**
 * The admin use cases that only read records. They need the store alone, not the certificate parsing,
 * key handling and jwks_uri fetching that changes need (service.ts), so a listing loads a fraction of
 * what a change loads. They run on knex or on the database drivers: any `Queryable`.
 */
import { NotFoundError } from '../errors/index.js';
import { type ClientRecord, clients, consents, type Queryable, resourceServers, signingKeys, trustAnchors } from '../store/index.js';
import type { ConsentFilter } from './consents.js';
import { listRefreshTokenViews, type RefreshTokenFilter } from './refresh-tokens.js';

/**
 * @example
 * const clientsNow = await createAdminQueries({ db }).listClients();
 */
export function createAdminQueries({ db }: { db: Queryable }) {
  return {
    listTrustAnchors: () => trustAnchors.list(db),
    listResourceServers: () => resourceServers.list(db),
    listClients: () => clients.list(db),
    async showClient(clientId: string): Promise<ClientRecord> {
      const c = await clients.find(db, clientId);
      if (!c) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { details: { clientId } });
      return c;
    },
    listKeys: () => signingKeys.listPublic(db),
    listConsents: (filter: ConsentFilter = {}) => consents.list(db, filter),
    listRefreshTokens: (filter: RefreshTokenFilter = {}) => listRefreshTokenViews(db, filter),
  };
}

export type AdminQueries = ReturnType<typeof createAdminQueries>;
