/**
 * Software statement issuers (RFC 7591 §2.3): the directories administrators trust to vouch for
 * software, such as an open-banking directory. A statement is a JWT whose `iss` is an issuer's name,
 * signed with one of its keys (registered as a JWKS or published at a jwks_uri). Its claims take
 * precedence over the registration request's members; the issuer's limits (scopes, resources,
 * environments, approval) apply to a registration that carries no initial access token.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import { CertboundError, ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { validatePrivateKeyJwtJwks } from '../jwks/private-key-jwt.js';
import { CLIENT_ASSERTION_ALGS, type Db, type SoftwareIssuer, softwareIssuers, writeAudit } from '../store/index.js';
import { type ClientKeyOptions, createClientKeyChecks } from './client-keys.js';
import { type CreateRegistrationTokenInput, registrationLimitsOf } from './registration-tokens.js';

export interface AddSoftwareIssuerInput extends Pick<CreateRegistrationTokenInput, 'scopes' | 'resources' | 'environments' | 'approval'> {
  /** The `iss` of its statements. */
  name: string;
  /** Its public signing keys (JSON text of a JWKS). */
  jwks?: string | undefined;
  /** Where it publishes them (fetched once now, and on each statement). */
  jwksUri?: string | undefined;
}

/** Claims of the statement that are about the JWT, not client metadata. */
const JWT_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

function statementRefused(code: 'ERR_SOFTWARE_STATEMENT_INVALID' | 'ERR_SOFTWARE_STATEMENT_UNAPPROVED', message: string): CertboundError {
  return new CertboundError(code, message, { status: 400, details: { member: 'software_statement' } });
}

/**
 * @example
 * const issuers = createSoftwareIssuerUseCases({ db });
 * await issuers.addSoftwareIssuer({ name: 'https://directory.example.com', jwksUri: 'https://directory.example.com/jwks.json', scopes: ['accounts'] }, 'cli:alice');
 */
export function createSoftwareIssuerUseCases({ db, ...keyOptions }: { db: Db } & ClientKeyOptions) {
  const keys = createClientKeyChecks(keyOptions);

  /** The issuer's current keys: registered, or fetched from its jwks_uri now. */
  async function keysOf(issuer: SoftwareIssuer): Promise<{ keys: Record<string, unknown>[] }> {
    if (issuer.jwks) return issuer.jwks;
    const { fetchJwksUriOnce } = await import('../outbound/jwks-uri-cache.js');
    const ca = keyOptions.outboundCaFile ? readFileSync(keyOptions.outboundCaFile, 'utf8') : undefined;
    try {
      return await fetchJwksUriOnce(issuer.jwksUri!, {
        ca,
        kind: 'keys',
        allowedRanges: keyOptions.jwksUriAllowedRanges,
        onFailure: keyOptions.onJwksUriFailure,
        validate: validatePrivateKeyJwtJwks,
      });
    } catch (err) {
      throw statementRefused('ERR_SOFTWARE_STATEMENT_INVALID', `The keys of software statement issuer ${issuer.name} cannot be fetched now: ${(err as Error).message}`);
    }
  }

  return {
    async addSoftwareIssuer(input: AddSoftwareIssuerInput, actor: string): Promise<SoftwareIssuer> {
      if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 255 || /[\x00-\x1f\x7f]/.test(input.name)) {
        throw new InvalidInputError('ERR_SOFTWARE_ISSUER_INVALID', 'The issuer name is the `iss` of its statements: 1 to 255 printable characters.', {
          details: { member: 'name' },
        });
      }
      if ((input.jwks === undefined) === (input.jwksUri === undefined)) {
        throw new InvalidInputError('ERR_SOFTWARE_ISSUER_INVALID', 'Give the issuer a JWKS or a jwks_uri, one of the two.', { details: { member: 'jwks' } });
      }
      const limits = registrationLimitsOf(input);
      const given = input.jwks !== undefined ? { jwks: { text: input.jwks, member: 'jwks' } } : { jwksUri: { url: input.jwksUri!, member: 'jwksUri' } };
      const registered = await keys.keysOf('private_key_jwt', given);
      const issuer: SoftwareIssuer = { name: input.name, jwks: registered.jwks, jwksUri: registered.jwksUri, ...limits, createdAt: new Date() };
      return db.transaction(async (trx) => {
        if (await softwareIssuers.find(trx, input.name)) {
          throw new ConflictError('ERR_SOFTWARE_ISSUER_EXISTS', `A software statement issuer "${input.name}" exists.`, { details: { member: 'name', name: input.name } });
        }
        await softwareIssuers.insert(trx, issuer);
        await writeAudit(trx, { actor, action: 'software_issuer.add', target: `software-issuer:${input.name}`, after: issuer });
        return issuer;
      });
    },

    listSoftwareIssuers: (): Promise<SoftwareIssuer[]> => softwareIssuers.list(db),

    /** Removes an issuer: its statements register nothing more; clients registered with them stay. */
    async removeSoftwareIssuer(name: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await softwareIssuers.find(trx, name);
        if (!before) throw new NotFoundError('ERR_SOFTWARE_ISSUER_UNKNOWN', `There is no software statement issuer "${name}".`, { details: { name } });
        await softwareIssuers.remove(trx, name);
        await writeAudit(trx, { actor, action: 'software_issuer.remove', target: `software-issuer:${name}`, before });
      });
    },

    /**
     * The issuer of a software statement and its metadata claims, once its signature and times verify:
     * `unapproved` for an issuer no administrator trusts, `invalid` for anything else wrong.
     */
    async verifySoftwareStatement(statement: unknown): Promise<{ issuer: SoftwareIssuer; claims: Record<string, unknown> }> {
      if (typeof statement !== 'string') throw statementRefused('ERR_SOFTWARE_STATEMENT_INVALID', 'software_statement must be a JWT (a string).');
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(statement);
      } catch {
        throw statementRefused('ERR_SOFTWARE_STATEMENT_INVALID', 'software_statement is not a JWT.');
      }
      const issuer = typeof unverified.iss === 'string' ? await softwareIssuers.find(db, unverified.iss) : undefined;
      if (!issuer) throw statementRefused('ERR_SOFTWARE_STATEMENT_UNAPPROVED', 'The software statement is not from an issuer this server trusts.');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(statement, createLocalJWKSet((await keysOf(issuer)) as never), { issuer: issuer.name, algorithms: [...CLIENT_ASSERTION_ALGS] }));
      } catch (err) {
        if (err instanceof CertboundError) throw err;
        const why =
          err instanceof joseErrors.JWTExpired
            ? 'it has expired'
            : err instanceof joseErrors.JWTClaimValidationFailed
              ? `its ${err.claim} claim is not valid`
              : 'its signature does not verify with the issuer keys';
        throw statementRefused('ERR_SOFTWARE_STATEMENT_INVALID', `The software statement of ${issuer.name} is refused: ${why}.`);
      }
      const claims = Object.fromEntries(Object.entries(payload).filter(([claim]) => !JWT_CLAIMS.has(claim)));
      return { issuer, claims };
    },
  };
}

export type SoftwareIssuerUseCases = ReturnType<typeof createSoftwareIssuerUseCases>;
