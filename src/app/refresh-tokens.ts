/**
 * The refresh tokens issued to end users' clients (authorization code flow), as an administrator sees
 * them: never the token itself, but a handle derived from it (the first 16 characters of the base64url
 * SHA-256 of its id), its client, user, the certificate it is bound to (RFC 8705 §4), scopes and dates.
 * Revoking one revokes its grant: the access tokens and other refresh tokens issued under it.
 */
import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors/index.js';
import { type Db, type Queryable, type RefreshTokenRecord, refreshTokens, writeAudit } from '../store/index.js';

/** A refresh token as an administrator sees it: the store's record, named by a handle instead of its id (the token itself). */
export interface RefreshTokenView extends Omit<RefreshTokenRecord, 'id' | 'grantId'> {
  /** Names the token without revealing it. */
  handle: string;
}

export interface RefreshTokenFilter {
  clientId?: string | undefined;
  accountId?: string | undefined;
}

const HANDLE = /^[A-Za-z0-9_-]{16}$/;

/**
 * The handle of a refresh token id.
 *
 * @example
 * refreshTokenHandle('Yq2…'); // 'k3X9_2fQ0pL1mZ8a'
 */
export function refreshTokenHandle(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 16);
}

function viewOf(t: RefreshTokenRecord): RefreshTokenView {
  return {
    handle: refreshTokenHandle(t.id),
    clientId: t.clientId,
    accountId: t.accountId,
    x5tS256: t.x5tS256,
    scopes: t.scopes,
    issuedAt: t.issuedAt,
    expiresAt: t.expiresAt,
    consumed: t.consumed,
  };
}

/**
 * Live (not expired) refresh tokens, oldest first, on any Queryable (a listing reads through the drivers).
 *
 * @example
 * const tokens = await listRefreshTokenViews(db, { clientId: 'mobile-app' });
 */
export async function listRefreshTokenViews(db: Queryable, filter: RefreshTokenFilter = {}): Promise<RefreshTokenView[]> {
  return (await refreshTokens.list(db, filter)).map(viewOf);
}

function unknownHandle(handle: string): NotFoundError {
  return new NotFoundError('ERR_REFRESH_TOKEN_UNKNOWN', `There is no live refresh token with the handle ${JSON.stringify(handle)}.`, { details: { handle } });
}

/**
 * @example
 * const tokens = createRefreshTokenUseCases({ db });
 * const [first] = await tokens.listRefreshTokens({ clientId: 'mobile-app' });
 * await tokens.revokeRefreshToken(first.handle, 'cli:ops');
 */
export function createRefreshTokenUseCases({ db }: { db: Db }) {
  return {
    /** Live (not expired) refresh tokens, oldest first. */
    listRefreshTokens: (filter: RefreshTokenFilter = {}): Promise<RefreshTokenView[]> => listRefreshTokenViews(db, filter),

    /** Revokes the refresh token with this handle and its grant; returns what it was and how many tokens went. */
    async revokeRefreshToken(handle: string, actor: string): Promise<{ token: RefreshTokenView; revokedTokens: number }> {
      if (!HANDLE.test(handle)) throw unknownHandle(handle);
      return db.transaction(async (trx) => {
        const found = (await refreshTokens.list(trx)).find((t) => refreshTokenHandle(t.id) === handle);
        if (!found) throw unknownHandle(handle);
        const token = viewOf(found);
        const revokedTokens = await refreshTokens.revoke(trx, found.id);
        await writeAudit(trx, { actor, action: 'refresh_token.revoke', target: `refresh_token:${handle}`, before: token, after: { revokedTokens } });
        return { token, revokedTokens };
      });
    },
  };
}

export type RefreshTokenUseCases = ReturnType<typeof createRefreshTokenUseCases>;
