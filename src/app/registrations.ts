/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592), over the client use cases, so
 * that a registered client obeys exactly the rules of `certbound client add`: the same mapping parser,
 * key checks and overlap check. On top of them:
 * - the initial access token's limits (expiry, uses, scopes, resources, trust-anchor environments), or
 *   those of the issuer of a trusted software statement, whose claims take precedence over the request;
 * - the proof of the certificate: the request's own certificate must authenticate the client it asks
 *   for, by the token endpoint's checks (chain, leaf policy, mapping; a self-signed client's `x5c`);
 * - manual approval: the client is stored pending and authenticates once an administrator approves it;
 * - a registration access token, bound to the registrant's certificate, for GET/PUT/DELETE.
 * Every write runs in one transaction with its audit row: a refused registration changes nothing, the
 * initial access token's use count included.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { CertboundError, ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import {
  type ClientRecord,
  clients,
  type Db,
  type InitialAccessToken,
  initialAccessTokens,
  PENDING_MEMBER,
  type RegistrationLimits,
  type RegistrationRecord,
  registrations,
  softwareIssuers,
  writeAudit,
} from '../store/index.js';
import type { Jwks } from '../jwks/self-signed.js';
import { type ClientKeyOptions, createClientKeyChecks } from './client-keys.js';
import { createClientUseCases } from './clients.js';
import { newMapping, assertNoOverlapOf } from './mappings.js';
import { hashToken } from './registration-tokens.js';
import { type RequestedClient, requestedClient } from './registration-metadata.js';
import { createSoftwareIssuerUseCases } from './software-issuers.js';

export { registeredMetadata } from './registration-metadata.js';

/** The certificate a registration or management request came with, as the server sees it. */
export interface PresentedCertificate {
  /** x5t#S256 of the leaf. */
  x5t: string;
  /** The trust anchor its chain was verified to, if any. */
  anchor: { name: string; environment: string | null } | undefined;
  /**
   * The token endpoint's verdict on this certificate for `client` (chain, leaf policy, mappings; for a
   * self-signed client its registered certificates): undefined when it authenticates, else the reason.
   */
  authenticates(client: Pick<ClientRecord, 'authMethod' | 'mappings' | 'jwks'>): string | undefined;
}

export interface RegistrationRequest {
  /** The bearer token of the request (RFC 7591 §3). */
  initialAccessToken: string | undefined;
  metadata: Record<string, unknown>;
  presented: PresentedCertificate | undefined;
}

export interface Registered {
  client: ClientRecord;
  registration: RegistrationRecord;
  /** Shown once, in the 201; only its hash is stored. */
  registrationAccessToken: string;
}

function tokenRefused(problem: string, message: string, tokenId?: string): CertboundError {
  return new CertboundError('ERR_REGISTRATION_TOKEN_INVALID', message, { status: 401, details: { problem, ...(tokenId ? { tokenId } : {}) } });
}

function managementRefused(problem: 'token' | 'certificate', message: string): CertboundError {
  return new CertboundError('ERR_REGISTRATION_ACCESS_DENIED', message, { status: 401, details: { problem } });
}

function proofRefused(member: string, message: string, problem: string): InvalidInputError {
  return new InvalidInputError('ERR_REGISTRATION_PROOF', message, { details: { member, problem } });
}

/** A refusal of the client use cases, about the request member its input came from. */
function inRequestMembers(err: unknown, members: Record<string, string>): unknown {
  if (!(err instanceof CertboundError)) return err;
  const member = err.details?.member;
  const requestMember = typeof member === 'string' ? (members[member] ?? members[member.slice(member.lastIndexOf('.') + 1)]) : undefined;
  // An overlap names the other clients: a registrant learns only which of its members conflicts.
  const mapped = requestMember ?? (err.code === 'ERR_MAPPING_OVERLAP' ? members['mapping.value'] : undefined);
  if (!mapped) return err;
  const details = err.code === 'ERR_MAPPING_OVERLAP' ? { member: mapped } : { ...err.details, member: mapped };
  return new CertboundError(err.code, err.message, { status: err.status, expose: err.expose, hint: err.hint, details, cause: err });
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request member that names what the certificate must prove: the mapping, or the self-signed client's certificates. */
function subjectMemberOf(wanted: RequestedClient): string {
  return wanted.members['mapping.value'] ?? (wanted.input.selfSignedJwksUri !== undefined ? 'jwks_uri' : 'jwks');
}

/** The usable initial access token behind `token`, or the reason it is not usable. */
async function usableToken(db: Db, token: string | undefined, now: number): Promise<InitialAccessToken> {
  if (!token) throw tokenRefused('missing', 'The registration request carries no initial access token (Authorization: Bearer).');
  const record = await initialAccessTokens.findByHash(db, hashToken(token));
  if (!record) throw tokenRefused('unknown', 'The initial access token is not known to this server.');
  if (record.revokedAt) throw tokenRefused('revoked', 'The initial access token was revoked.', record.id);
  if (record.expiresAt.getTime() <= now) throw tokenRefused('expired', `The initial access token expired at ${record.expiresAt.toISOString()}.`, record.id);
  if (record.maxUses !== null && record.uses >= record.maxUses) throw tokenRefused('used_up', `The initial access token was used its ${record.maxUses} time(s).`, record.id);
  return record;
}

/**
 * The proof of the certificate: the request's certificate authenticates `client` as the token endpoint
 * would, and chains to an environment the token allows. `member` is the request member refused.
 * `published`: the set a self-signed client's jwks_uri served at this request, which the certificate
 * must be one of (the store holds only the URI).
 */
function assertProven(presented: PresentedCertificate, client: ClientRecord, environments: readonly string[], member: string, published?: Jwks): void {
  if (client.authMethod === 'tls_client_auth' && environments.length) {
    const env = presented.anchor?.environment ?? null;
    if (env === null || !environments.includes(env)) {
      throw proofRefused(
        member,
        `The certificate chains to ${presented.anchor ? `trust anchor ${presented.anchor.name} (environment ${env ?? 'none'})` : 'no trust anchor'}; this registration allows environment(s) ${environments.join(', ')} only.`,
        'environment',
      );
    }
  }
  if (client.authMethod === 'private_key_jwt') return;
  if (published) {
    if (presented.authenticates({ ...client, jwks: published }) === undefined) return;
    throw proofRefused(
      member,
      `The certificate of this request (x5t#S256 ${presented.x5t}) is not one of the certificates published at ${client.jwksUri} (the x5c[0] of its ${published.keys.length} key(s)): publish it there, or register with one of those.`,
      'mismatch',
    );
  }
  const reason = presented.authenticates(client);
  if (reason) throw proofRefused(member, `The certificate of this request does not prove ${member}: ${reason}`, 'mismatch');
}

/**
 * @example
 * const dcr = createRegistrationUseCases({ db });
 * const { client, registrationAccessToken } = await dcr.register({ initialAccessToken, metadata, presented });
 */
export function createRegistrationUseCases({ db, ...keyOptions }: { db: Db } & ClientKeyOptions) {
  const issuers = createSoftwareIssuerUseCases({ db, ...keyOptions });
  const keyChecks = createClientKeyChecks(keyOptions);

  /**
   * SS-4: the set a self-signed client's jwks_uri serves now, fetched once, before any transaction, by
   * the guarded fetch `client add` uses (the outbound address policy, the JWKS rules of its kind). The
   * use cases are then given it, so that the proof and the stored client rest on the same fetch.
   */
  async function publishedCertificates(uri: string | undefined): Promise<{ jwksUri: string; jwks: Jwks } | undefined> {
    return uri === undefined ? undefined : keyChecks.publishedSet(uri, 'certificates', 'jwks_uri');
  }
  const withFetched = (published: { jwksUri: string; jwks: Jwks } | undefined): ClientKeyOptions =>
    published ? { ...keyOptions, alreadyFetched: new Map([[published.jwksUri, published.jwks]]) } : keyOptions;
  /** The registration of `clientId`, if `token` and the certificate may manage it. */
  async function authorized(
    trx: Db,
    clientId: string,
    token: string | undefined,
    presented: PresentedCertificate | undefined,
  ): Promise<{ client: ClientRecord; registration: RegistrationRecord }> {
    const registration = await registrations.find(trx, clientId);
    if (!token || !registration || !sameHash(hashToken(token), registration.accessTokenHash)) {
      throw managementRefused('token', 'The registration access token is not valid for this client.');
    }
    const client = (await clients.find(trx, clientId))!;
    if (!presented) throw managementRefused('certificate', 'A registration is managed over mTLS with the certificate it was registered with.');
    if (presented.x5t !== registration.registrantX5t && presented.authenticates(client) !== undefined) {
      throw managementRefused('certificate', 'The certificate of this request is neither the one the client registered with nor one that authenticates the client.');
    }
    return { client, registration };
  }

  return {
    async register({ initialAccessToken, metadata, presented }: RegistrationRequest): Promise<Registered> {
      const now = Date.now();
      const { software_statement: statementJwt, ...members } = metadata;
      // RFC 7591 §2.3: a trusted statement's claims take precedence over the request's members.
      const statement = statementJwt === undefined ? undefined : await issuers.verifySoftwareStatement(statementJwt);
      const iat = initialAccessToken !== undefined || !statement ? await usableToken(db, initialAccessToken, now) : undefined;
      const limits: RegistrationLimits = iat ?? statement!.issuer;
      const wanted = requestedClient(statement ? { ...members, ...statement.claims } : members, limits);
      const subjectMember = subjectMemberOf(wanted);
      if (!presented)
        throw proofRefused(subjectMember, 'A registration arrives over mTLS with the certificate the client will authenticate with; this request carried none.', 'none');
      const published = await publishedCertificates(wanted.input.selfSignedJwksUri);
      const clientId = `dcr-${randomUUID()}`;
      const actor = iat ? `registration:${iat.id}:${presented.x5t}` : `registration:software:${statement!.issuer.name}:${presented.x5t}`;
      const registrationAccessToken = randomBytes(32).toString('base64url');
      try {
        return await db.transaction(async (trx) => {
          if (iat && !(await initialAccessTokens.consumeUse(trx, iat.id, now)))
            throw tokenRefused('used_up', 'The initial access token was used up by another registration.', iat.id);
          // Pinned to the anchor the certificate chains to: the same subject under another CA is not this client.
          const mapping = wanted.input.mapping && presented.anchor ? { ...wanted.input.mapping, trustAnchor: presented.anchor.name } : wanted.input.mapping;
          let client = await createClientUseCases({ db: trx, ...withFetched(published) }).addClient({ ...wanted.input, ...(mapping ? { mapping } : {}), clientId }, actor);
          assertProven(presented, client, limits.environments, subjectMember, published?.jwks);
          const pending = limits.approval === 'manual';
          const extra = { ...(wanted.clientName ? { client_name: wanted.clientName } : {}), ...(pending ? { [PENDING_MEMBER]: 'pending' } : {}) };
          if (Object.keys(extra).length) {
            await clients.update(trx, clientId, { metadata: { ...client.metadata, ...extra } });
            client = (await clients.find(trx, clientId))!;
          }
          const registration: RegistrationRecord = {
            clientId,
            status: pending ? 'pending' : 'active',
            accessTokenHash: hashToken(registrationAccessToken),
            registrantX5t: presented.x5t,
            initialAccessTokenId: iat?.id ?? null,
            softwareIssuer: statement?.issuer.name ?? null,
            createdAt: new Date(now),
            updatedAt: new Date(now),
          };
          await registrations.insert(trx, registration);
          await writeAudit(trx, {
            actor,
            action: 'registration.add',
            target: `client:${clientId}`,
            after: { client, status: registration.status, initialAccessToken: iat?.id ?? null, softwareIssuer: registration.softwareIssuer, registrant: presented.x5t },
          });
          return { client, registration, registrationAccessToken };
        });
      } catch (err) {
        throw inRequestMembers(err, wanted.members);
      }
    },

    /** RFC 7592 §2.1. */
    async readRegistration(
      clientId: string,
      token: string | undefined,
      presented: PresentedCertificate | undefined,
    ): Promise<{ client: ClientRecord; registration: RegistrationRecord }> {
      return authorized(db, clientId, token, presented);
    },

    /**
     * RFC 7592 §2.2: the metadata replaces the client's, revalidated as a registration is (the limits of
     * the initial access token it was registered with, the mapping rules, the overlap, the proof).
     */
    async updateRegistration(clientId: string, token: string | undefined, presented: PresentedCertificate | undefined, metadata: Record<string, unknown>): Promise<ClientRecord> {
      const { client: current, registration } = await authorized(db, clientId, token, presented);
      if (metadata.client_id !== clientId)
        throw new InvalidInputError('ERR_REGISTRATION_METADATA', 'The body must carry the client_id of the registration it updates.', { details: { member: 'client_id' } });
      // The limits it was registered under, even when that token is used up or revoked since.
      const limits: Pick<RegistrationLimits, 'scopes' | 'resources' | 'environments'> | undefined = registration.initialAccessTokenId
        ? await initialAccessTokens.find(db, registration.initialAccessTokenId)
        : registration.softwareIssuer
          ? await softwareIssuers.find(db, registration.softwareIssuer)
          : undefined;
      const { software_statement: _statement, ...members } = metadata;
      const wanted = requestedClient(members, limits ?? { scopes: current.scopes, resources: current.defaultResource ? [current.defaultResource] : [] });
      if (wanted.authMethod !== current.authMethod) {
        throw new InvalidInputError('ERR_REGISTRATION_METADATA', `token_endpoint_auth_method cannot change (${current.authMethod}); register a new client instead.`, {
          details: { member: 'token_endpoint_auth_method' },
        });
      }
      const actor = `registration:${clientId}:${presented!.x5t}`;
      const subjectMember = subjectMemberOf(wanted);
      const published = await publishedCertificates(wanted.input.selfSignedJwksUri);
      try {
        return await db.transaction(async (trx) => {
          const { input } = wanted;
          const mapping = input.mapping;
          if (mapping) {
            const anchored = presented!.anchor ? { ...mapping, trustAnchor: presented!.anchor.name } : mapping;
            const next = await newMapping(trx, clientId, anchored, 'mapping.');
            const unchanged =
              current.mappings.length === 1 &&
              current.mappings[0]!.kind === next.kind &&
              current.mappings[0]!.canonical === next.canonical &&
              current.mappings[0]!.trustAnchorId === next.trustAnchorId;
            if (!unchanged) {
              await assertNoOverlapOf(trx, next, false, 'mapping.value');
              await clients.insertMapping(trx, next);
              for (const old of current.mappings) await clients.removeMapping(trx, clientId, old.id);
            }
          }
          const keys = input.privateKeyJwtJwks ?? input.selfSignedJwks;
          const keysUri = input.privateKeyJwtJwksUri ?? input.selfSignedJwksUri;
          await createClientUseCases({ db: trx, ...withFetched(published) }).updateClient(
            clientId,
            { scopes: input.scopes, boundTokens: input.boundTokens, ...(keys !== undefined ? { jwks: keys } : {}), ...(keysUri !== undefined ? { jwksUri: keysUri } : {}) },
            actor,
          );
          const clientName = wanted.clientName;
          const { client_name: _old, ...kept } = current.metadata;
          await clients.update(trx, clientId, { metadata: { ...kept, ...(clientName ? { client_name: clientName } : {}) } });
          const after = (await clients.find(trx, clientId))!;
          assertProven(presented!, after, limits?.environments ?? [], subjectMember, published?.jwks);
          await writeAudit(trx, { actor, action: 'registration.update', target: `client:${clientId}`, before: current, after });
          return after;
        });
      } catch (err) {
        throw inRequestMembers(err, wanted.members);
      }
    },

    /** RFC 7592 §2.3: removes the client, its mappings and its tokens. */
    async deleteRegistration(clientId: string, token: string | undefined, presented: PresentedCertificate | undefined): Promise<void> {
      await db.transaction(async (trx) => {
        const { client } = await authorized(trx, clientId, token, presented);
        await registrations.remove(trx, clientId);
        await createClientUseCases({ db: trx, ...keyOptions }).removeClient(clientId, `registration:${clientId}:${presented!.x5t}`);
        await writeAudit(trx, { actor: `registration:${clientId}:${presented!.x5t}`, action: 'registration.remove', target: `client:${clientId}`, before: client });
      });
    },
  };
}

/** The pending registration of `clientId`, or the refusal. */
async function pendingRegistration(trx: Db, clientId: string): Promise<{ client: ClientRecord; registration: RegistrationRecord }> {
  const client = await clients.find(trx, clientId);
  if (!client) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { details: { clientId } });
  const registration = await registrations.find(trx, clientId);
  if (registration?.status !== 'pending') {
    throw new ConflictError('ERR_REGISTRATION_NOT_PENDING', `Client "${clientId}" does not await approval.`, { details: { clientId, status: registration?.status ?? 'none' } });
  }
  return { client, registration };
}

/**
 * The administrator's decisions on registrations that await approval.
 *
 * @example
 * await createRegistrationApprovalUseCases({ db }).approveClient('dcr-…', 'cli:alice');
 */
export function createRegistrationApprovalUseCases({ db }: { db: Db }) {
  return {
    async approveClient(clientId: string, actor: string): Promise<ClientRecord> {
      return db.transaction(async (trx) => {
        const { client } = await pendingRegistration(trx, clientId);
        const { [PENDING_MEMBER]: _pending, ...metadata } = client.metadata;
        await clients.update(trx, clientId, { metadata });
        await registrations.setStatus(trx, clientId, 'active');
        const after = (await clients.find(trx, clientId))!;
        await writeAudit(trx, { actor, action: 'registration.approve', target: `client:${clientId}`, before: client, after });
        return after;
      });
    },

    /** Removes the pending client, as if it had never registered. */
    async rejectClient(clientId: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const { client } = await pendingRegistration(trx, clientId);
        await registrations.remove(trx, clientId);
        await clients.remove(trx, clientId);
        await writeAudit(trx, { actor, action: 'registration.reject', target: `client:${clientId}`, before: client });
      });
    },
  };
}

export type RegistrationUseCases = ReturnType<typeof createRegistrationUseCases>;
