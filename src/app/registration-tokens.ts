/**
 * Initial access tokens (RFC 7591 §3): what an administrator hands a partner so that it can register
 * itself. Each carries its limits: an expiry, a number of uses, the scopes and resources a registration
 * may ask for, the trust-anchor environments its certificate may chain to, and whether the registered
 * client waits for an administrator's approval. Only a SHA-256 of the token is stored.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { InvalidInputError, NotFoundError } from '../errors/index.js';
import { type ApprovalMode, type Db, type InitialAccessToken, initialAccessTokens, type RegistrationLimits, writeAudit } from '../store/index.js';
import { requireScopes } from './input-checks.js';
import { ENVIRONMENT_PATTERN } from './patterns.js';

export interface CreateRegistrationTokenInput {
  /** Seconds until the token expires; default one hour. */
  expiresInS?: number | undefined;
  maxUses?: number | undefined;
  scopes?: string[] | undefined;
  resources?: string[] | undefined;
  environments?: string[] | undefined;
  approval?: ApprovalMode | undefined;
}

/** The token, shown once: what the administrator hands out. The record keeps only its hash. */
export interface CreatedRegistrationToken {
  token: string;
  record: InitialAccessToken;
}

export const DEFAULT_REGISTRATION_TOKEN_TTL_S = 3600;
/** A year: an initial access token is for an onboarding, not a standing credential. */
const MAX_REGISTRATION_TOKEN_TTL_S = 366 * 24 * 3600;

/** SHA-256 (base64url) of a bearer token: what is stored and looked up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The stored record without its hash: what listings show. */
export type RegistrationTokenView = Omit<InitialAccessToken, 'tokenHash'>;

export function registrationTokenView({ tokenHash: _hash, ...rest }: InitialAccessToken): RegistrationTokenView {
  return rest;
}

function badOption(member: string, message: string): InvalidInputError {
  return new InvalidInputError('ERR_REGISTRATION_TOKEN_OPTIONS', message, { details: { member } });
}

/** What a registration may ask for, checked: an initial access token's limits, or a software statement issuer's. */
export function registrationLimitsOf(input: Pick<CreateRegistrationTokenInput, 'scopes' | 'resources' | 'environments' | 'approval'>): RegistrationLimits {
  if (input.approval !== undefined && input.approval !== 'auto' && input.approval !== 'manual')
    throw badOption('approval', `The approval mode is auto or manual (got ${String(input.approval)}).`);
  for (const env of input.environments ?? []) if (!ENVIRONMENT_PATTERN.test(env)) throw badOption('environments', `"${env}" is not a trust-anchor environment name.`);
  for (const resource of input.resources ?? []) {
    if (!URL.canParse(resource)) throw badOption('resources', `"${resource}" is not an absolute URI.`);
  }
  return {
    scopes: requireScopes(input.scopes ?? [], 'scopes'),
    resources: [...new Set(input.resources ?? [])],
    environments: [...new Set(input.environments ?? [])],
    approval: input.approval ?? 'auto',
  };
}

/**
 * @example
 * const tokens = createRegistrationTokenUseCases({ db });
 * const { token, record } = await tokens.createRegistrationToken({ expiresInS: 3600, maxUses: 1, scopes: ['read'], environments: ['prod'] }, 'cli:alice');
 */
export function createRegistrationTokenUseCases({ db }: { db: Db }) {
  return {
    async createRegistrationToken(input: CreateRegistrationTokenInput, actor: string): Promise<CreatedRegistrationToken> {
      const ttl = input.expiresInS ?? DEFAULT_REGISTRATION_TOKEN_TTL_S;
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_REGISTRATION_TOKEN_TTL_S) throw badOption('expiresIn', `The expiry must be between 1 second and 366 days (got ${ttl} s).`);
      if (input.maxUses !== undefined && (!Number.isInteger(input.maxUses) || input.maxUses < 1))
        throw badOption('maxUses', `The number of uses must be a whole number of at least 1 (got ${input.maxUses}).`);
      const limits = registrationLimitsOf(input);
      const token = randomBytes(32).toString('base64url');
      const now = new Date();
      const record: InitialAccessToken = {
        id: randomUUID(),
        tokenHash: hashToken(token),
        expiresAt: new Date(now.getTime() + ttl * 1000),
        maxUses: input.maxUses ?? null,
        uses: 0,
        ...limits,
        createdBy: actor,
        createdAt: now,
        revokedAt: null,
      };
      await db.transaction(async (trx) => {
        await initialAccessTokens.insert(trx, record);
        await writeAudit(trx, { actor, action: 'registration_token.create', target: `registration-token:${record.id}`, after: registrationTokenView(record) });
      });
      return { token, record };
    },

    listRegistrationTokens: async (): Promise<RegistrationTokenView[]> => (await initialAccessTokens.list(db)).map(registrationTokenView),

    /** Revokes a token: it registers nothing more; clients registered with it stay. */
    async revokeRegistrationToken(id: string, actor: string): Promise<RegistrationTokenView> {
      return db.transaction(async (trx) => {
        const before = await initialAccessTokens.find(trx, id);
        if (!before) throw new NotFoundError('ERR_REGISTRATION_TOKEN_UNKNOWN', `There is no initial access token ${id}.`, { details: { id } });
        await initialAccessTokens.revoke(trx, id, Date.now());
        const after = (await initialAccessTokens.find(trx, id))!;
        await writeAudit(trx, {
          actor,
          action: 'registration_token.revoke',
          target: `registration-token:${id}`,
          before: registrationTokenView(before),
          after: registrationTokenView(after),
        });
        return registrationTokenView(after);
      });
    },
  };
}

export type RegistrationTokenUseCases = ReturnType<typeof createRegistrationTokenUseCases>;
