/**
 * Transport-free administrative use cases, shared by the CLI and (later) the admin HTTP API.
 * Every write validates first, then runs in one transaction together with its audit row, so a refused
 * request changes nothing.
 */
import { readFileSync } from 'node:fs';
import { randomUUID, X509Certificate } from 'node:crypto';
import type { SigningAlgorithm } from '../config/index.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { canonicalizeMappingValue, parseCertificate, parsePemCertificates } from '../pki/index.js';
import {
  type AuthMethod,
  bumpRevision,
  type ClientRecord,
  clients,
  type Db,
  type MappingKind,
  type MappingRecord,
  type ResourceServer,
  resourceServers,
  type SigningKey,
  signingKeys,
  type TrustAnchor,
  trustAnchors,
  type AuditEntry,
  type AuditFilter,
  lastSeen,
  listAudit,
  writeAudit,
  ensureResourceServerScopes,
} from '../store/index.js';
import { adminSignInRefusal } from './administrators.js';
import { generateSigningKey } from './keys.js';
import { createAdminQueries } from './queries.js';
import { createCrlService } from './crls.js';
import { expiringReport } from './expiry.js';
import { isMappingValidAt } from '../mapping/index.js';
import { ADMIN_SCOPE } from '../admin-api/scopes.js';
import { assertNoOverlap } from './overlap.js';
import { validatePrivateKeyJwtJwks } from './private-key-jwt.js';
import { CLIENT_ID_PATTERN, ENVIRONMENT_PATTERN, MAPPING_KINDS, MAX_RESOURCE_ID_LENGTH, NAME_PATTERN, SCOPE_TOKEN_PATTERN } from './patterns.js';
import { type Jwks, jwksFromCertificatePem, validateSelfSignedJwks } from './self-signed.js';


export interface AdminServiceOptions {
  db: Db;
  keyEncryptionKey?: Buffer | undefined;
  signingAlg: SigningAlgorithm;
  /** PEM file of extra CA certificates trusted when fetching a client's jwks_uri (CERTBOUND_OUTBOUND_CA_FILE). */
  outboundCaFile?: string | undefined;
  /** Non-public address ranges a jwks_uri may be fetched from (CERTBOUND_JWKS_URI_ALLOWED_RANGES); default none. */
  jwksUriAllowedRanges?: readonly string[] | undefined;
  /** Told a failed jwks_uri fetch with its full error, for the server log (the caller gets a short reason). */
  onJwksUriFailure?: ((failure: { uri: string; reason: string; error: unknown }) => void) | undefined;
}

export interface AddTrustAnchorInput {
  name: string;
  pem: string;
  environment?: string | undefined;
  /** H15-4: accept client certificates without any EKU extension under this anchor (legacy PKIs). Default false. */
  allowMissingEku?: boolean | undefined;
}

export interface AddResourceServerInput {
  identifier: string;
  scopes: string[];
  tokenFormat?: 'jwt' | 'opaque';
  ttl?: number | undefined;
  /**
   * Registered clients that may introspect this resource's tokens (the resource server's own client
   * identity), besides each token's own client. Absent: unchanged (none for a new resource server).
   */
  introspectionClients?: string[] | undefined;
}

/** Client-level settings an administrator may change after creation (mappings have their own use cases). */
export interface UpdateClientInput {
  scopes?: string[];
  /** `null` clears the default resource. */
  defaultResource?: string | null;
  boundTokens?: boolean;
  /**
   * Replaces the registered keys (JSON text of a JWKS): a private_key_jwt client's public keys, or a
   * self-signed client's certificates (`x5c`; a client that published them at a jwks_uri then uses these).
   */
  jwks?: string;
  /**
   * From now on the client publishes its keys here (fetched once to check it): a self-signed client its
   * certificates, a private_key_jwt client its assertion keys.
   */
  jwksUri?: string;
}

export type MappingInput = {
  kind: MappingKind;
  value: string;
  trustAnchor?: string | undefined;
  notBefore?: Date | undefined;
  notAfter?: Date | undefined;
  /** Accept a mapping that lets one certificate authenticate as another client too (see overlap.ts). */
  allowOverlap?: boolean | undefined;
};

export interface AddClientInput {
  clientId: string;
  /** tls_client_auth: one certificate mapping. */
  mapping?: MappingInput;
  /** self_signed_tls_client_auth: the client's certificate (PEM). */
  selfSignedCertPem?: string;
  /** self_signed_tls_client_auth: a JWKS (JSON text) whose keys carry the client's certificates in x5c. */
  selfSignedJwks?: string;
  /** private_key_jwt: a JWKS (JSON text) with the public keys the client signs its assertions with (BT-2). */
  privateKeyJwtJwks?: string;
  /** self_signed_tls_client_auth: where the client publishes its certificates (SS-4); fetched once to check it. */
  selfSignedJwksUri?: string;
  /** private_key_jwt: where the client publishes its public assertion keys (RFC 7591 jwks_uri); fetched once to check it. */
  privateKeyJwtJwksUri?: string;
  scopes?: string[];
  defaultResource?: string | undefined;
  /** RFC 8705 §3.4; default true. */
  boundTokens?: boolean;
}

const NAME = NAME_PATTERN;
const CLIENT_ID = CLIENT_ID_PATTERN;
const SCOPE_TOKEN = SCOPE_TOKEN_PATTERN;
export { CLIENT_ID_PATTERN, MAPPING_KINDS, NAME_PATTERN, SCOPE_TOKEN_PATTERN };

function requireScopes(scopes: string[], field: string): string[] {
  const unique = [...new Set(scopes)];
  for (const s of unique) {
    if (!SCOPE_TOKEN.test(s)) {
      throw new InvalidInputError('ERR_SCOPE_INVALID', `${field}: "${s}" is not a valid scope token`, {
        hint: 'Scopes are space-separated tokens of visible ASCII characters without quotes or backslashes.',
        details: { field },
      });
    }
  }
  return unique;
}

function assertValidWindow(notBefore?: Date, notAfter?: Date): void {
  for (const [name, d] of [['not_before', notBefore], ['not_after', notAfter]] as const) {
    if (d && Number.isNaN(d.getTime())) throw new InvalidInputError('ERR_MAPPING_WINDOW', `${name} is not a valid date`, { hint: 'Use an ISO 8601 date such as 2027-01-31T00:00:00Z.' });
  }
  if (notBefore && notAfter && notAfter <= notBefore) {
    throw new InvalidInputError('ERR_MAPPING_WINDOW', 'not_after must be later than not_before');
  }
}

/** A jwks_uri an administrator registers (SS-1): an absolute https URL without credentials or fragment. */
function checkJwksUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError('ERR_JWKS_URI_INVALID', `"${value}" is not an absolute URL.`, { hint: 'Give the https URL where the client publishes its JWKS, e.g. https://device-17.example.com/jwks.json.' });
  }
  if (url.protocol !== 'https:') throw new InvalidInputError('ERR_JWKS_URI_INVALID', `The jwks_uri must be https (got ${url.protocol.replace(':', '')}): the keys it serves decide who authenticates.`);
  if (url.username || url.password || url.hash || value.length > 2048) {
    throw new InvalidInputError('ERR_JWKS_URI_INVALID', 'The jwks_uri must not carry credentials or a fragment, and has at most 2048 characters.');
  }
  return url.href;
}

/**
 * Creates the administrative use cases over a database.
 *
 * @example
 * const admin = createAdminService({ db, signingAlg: 'ES256' });
 * await admin.addTrustAnchor({ name: 'corp-root', pem }, 'cli:alice');
 * await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'cli:alice');
 * await admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' },
 *   scopes: ['read'], defaultResource: 'https://api.example.com' }, 'cli:alice');
 */
export function createAdminService({ db, keyEncryptionKey, signingAlg, outboundCaFile, jwksUriAllowedRanges, onJwksUriFailure }: AdminServiceOptions) {
  const queries = createAdminQueries({ db });
  /**
   * SS-4: a jwks_uri must be a plain https URL that serves a usable set now (the server fetches it again
   * on use). The fetcher (undici) is imported here, not at the top, so that a server that loads the admin
   * service for its start-up checks does not hold it (docs/performance.md, memory). Returns the normalized URL.
   */
  async function checkPublishedSet(value: string, kind: 'certificates' | 'keys'): Promise<string> {
    const jwksUri = checkJwksUri(value);
    const { fetchJwksUriOnce } = await import('./jwks-uri.js');
    const ca = outboundCaFile ? readFileSync(outboundCaFile, 'utf8') : undefined;
    await fetchJwksUriOnce(jwksUri, { ca, kind, allowedRanges: jwksUriAllowedRanges, onFailure: onJwksUriFailure, validate: kind === 'keys' ? validatePrivateKeyJwtJwks : validateSelfSignedJwks });
    return jwksUri;
  }

  /**
   * The keys of a self-signed or private_key_jwt client, given as a JWKS (JSON text) or as a jwks_uri
   * (fetched once), checked by the rules of the client's method.
   */
  async function keysOf(method: AuthMethod, given: { jwks?: string | undefined; jwksUri?: string | undefined }): Promise<{ jwks: Jwks | null; jwksUri: string | null }> {
    const keys = method === 'private_key_jwt';
    if (given.jwksUri !== undefined) return { jwks: null, jwksUri: await checkPublishedSet(given.jwksUri, keys ? 'keys' : 'certificates') };
    return { jwks: keys ? await validatePrivateKeyJwtJwks(given.jwks!) : validateSelfSignedJwks(given.jwks!), jwksUri: null };
  }

  /** The validated replacement keys of updateClient, by the client's authentication method. */
  async function newKeysOf(clientId: string, input: UpdateClientInput, fields: { jwks?: string; jwksUri?: string }): Promise<{ jwks: Jwks | null; jwksUri: string | null }> {
    const client = await clients.find(db, clientId);
    if (!client) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { hint: 'List clients with: certbound client list' });
    if (input.jwks !== undefined && input.jwksUri !== undefined) {
      throw new InvalidInputError('ERR_CLIENT_KEYS', `Give either ${fields.jwks ?? '--jwks'} or ${fields.jwksUri ?? '--jwks-uri'}, not both (SS-11).`);
    }
    if (client.authMethod === 'tls_client_auth') {
      throw new InvalidInputError('ERR_CLIENT_KEYS', `Client "${clientId}" uses tls_client_auth: it has certificate mappings, not keys.`, { hint: 'Change its certificates with: certbound client mapping add|remove' });
    }
    return keysOf(client.authMethod, input);
  }

  async function resolveAnchor(trx: Db, name: string | undefined): Promise<TrustAnchor | undefined> {
    if (!name) return undefined;
    const anchor = await trustAnchors.findByName(trx, name);
    if (!anchor) {
      const known = (await trustAnchors.list(trx)).map((a) => a.name);
      throw new NotFoundError('ERR_TRUST_ANCHOR_UNKNOWN', `There is no trust anchor named "${name}".`, {
        hint: known.length ? `Known trust anchors: ${known.join(', ')}.` : 'Add one first with: certbound trust add --name NAME --cert FILE',
      });
    }
    return anchor;
  }

  function buildMapping(clientId: string, input: MappingInput, anchor: TrustAnchor | undefined): MappingRecord {
    if (!MAPPING_KINDS.includes(input.kind)) {
      throw new InvalidInputError('ERR_MAPPING_KIND', `Unknown mapping kind "${input.kind}"`, { hint: `Use one of: ${MAPPING_KINDS.join(', ')}.` });
    }
    assertValidWindow(input.notBefore, input.notAfter);
    const canonical = canonicalizeMappingValue(input.kind, input.value);
    return {
      id: randomUUID(),
      clientId,
      kind: input.kind,
      value: input.value,
      canonical,
      trustAnchorId: anchor?.id ?? null,
      trustAnchorName: anchor?.name ?? null,
      trustAnchorSpki: anchor?.spkiSha256 ?? null,
      trustAnchorEnvironment: anchor?.environment ?? null,
      notBefore: input.notBefore ?? null,
      notAfter: input.notAfter ?? null,
      createdAt: new Date(),
    };
  }

  /**
   * Refuses to remove (after undefined) or change the last client that can sign in to the admin API with
   * the admin scope so that it no longer can: the admin API would then lock everybody out, and only the
   * CLI on the database could let anyone back in. Only clients that can sign in count (adminSignInRefusal,
   * the admin API's own rules): one with the scope but without bound tokens or a valid mapping does not.
   */
  async function assertAnotherAdministrator(trx: Db, before: ClientRecord, after: ClientRecord | undefined, change: string): Promise<void> {
    const now = Date.now();
    if (adminSignInRefusal(before, [ADMIN_SCOPE], now) !== undefined || (after && adminSignInRefusal(after, [ADMIN_SCOPE], now) === undefined)) return;
    const named = (await trx('clients').whereNot({ client_id: before.clientId }).andWhere('scope', 'like', `%${ADMIN_SCOPE}%`).select('client_id')) as { client_id: string }[];
    const unable: string[] = [];
    for (const { client_id } of named) {
      const other = await clients.find(trx, String(client_id));
      if (!other?.scopes.includes(ADMIN_SCOPE)) continue;
      const refusal = adminSignInRefusal(other, [ADMIN_SCOPE], now);
      if (refusal === undefined) return;
      unable.push(refusal);
    }
    throw new ConflictError(
      'ERR_ADMIN_LAST',
      `"${before.clientId}" is the only client that can sign in to the admin API with ${ADMIN_SCOPE}${unable.length ? ` (the others with the scope cannot: ${unable.join('; ')})` : ''}; ${change} would leave nobody able to change anything through the admin API.`,
      { hint: `Create another administrator first (POST /admin/clients with "scope": "${ADMIN_SCOPE}", bound tokens on, and a mapping or key it can authenticate with now), or fix one that cannot sign in.` },
    );
  }

  async function assertClientsExist(trx: Db, clientIds: string[]): Promise<void> {
    const missing: string[] = [];
    for (const id of clientIds) if (!(await clients.find(trx, id))) missing.push(id);
    if (missing.length) {
      throw new NotFoundError('ERR_CLIENT_UNKNOWN', `--introspection-clients: there is no client ${missing.map((id) => `"${id}"`).join(', ')}.`, {
        hint: "Register the resource server's own client first (certbound client add --id …), then name it here.",
      });
    }
  }

  async function assertScopesOffered(trx: Db, scopes: string[], defaultResource: string | undefined): Promise<void> {
    const all = await resourceServers.list(trx);
    if (defaultResource && !all.some((r) => r.identifier === defaultResource)) {
      throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${defaultResource}".`, {
        hint: all.length ? `Registered: ${all.map((r) => r.identifier).join(', ')}.` : 'Add it first with: certbound resource add --id URI --scope "…"',
      });
    }
    const offered = new Set(all.flatMap((r) => r.scopes));
    const missing = scopes.filter((s) => !offered.has(s));
    if (missing.length) {
      throw new InvalidInputError('ERR_SCOPE_UNKNOWN', `No resource server offers the scope(s) ${missing.join(', ')}.`, {
        hint: 'Add the scope to a resource server first (certbound resource add --id URI --scope "…"), or remove it from the client.',
      });
    }
  }

  return {
    // ---- trust anchors -------------------------------------------------------------------------
    async addTrustAnchor(input: AddTrustAnchorInput, actor: string): Promise<TrustAnchor> {
      if (!NAME.test(input.name)) {
        throw new InvalidInputError('ERR_NAME_INVALID', `"${input.name}" is not a valid trust anchor name`, { hint: 'Use letters, digits, ".", "_" and "-" (at most 100).' });
      }
      if (input.environment !== undefined && !ENVIRONMENT_PATTERN.test(input.environment)) {
        throw new InvalidInputError('ERR_NAME_INVALID', `"${input.environment}" is not a valid environment label`, { hint: 'Use a short label such as prod or staging (letters, digits, ".", "_" and "-", at most 64).' });
      }
      const ders = parsePemCertificates(input.pem);
      if (ders.length !== 1) {
        throw new InvalidInputError('ERR_CERT_PARSE', `A trust anchor is one CA certificate; the file holds ${ders.length}.`, {
          hint: 'Split the bundle and add each CA under its own name.',
        });
      }
      const parsed = parseCertificate(ders[0]!);
      const nodeCert = new X509Certificate(parsed.der);
      if (!nodeCert.ca) {
        throw new InvalidInputError('ERR_TRUST_ANCHOR_NOT_CA', `The certificate ${parsed.subjectRfc4514} is not a CA certificate (basicConstraints cA is not set).`, {
          hint: 'Add the root (or issuing) CA certificate, not a client or server certificate.',
        });
      }
      if (parsed.notAfter.getTime() < Date.now()) {
        throw new InvalidInputError('ERR_TRUST_ANCHOR_EXPIRED', `The CA certificate ${parsed.subjectRfc4514} expired on ${parsed.notAfter.toISOString()}.`);
      }
      const anchor: TrustAnchor = {
        id: randomUUID(),
        name: input.name,
        pem: `-----BEGIN CERTIFICATE-----\n${parsed.der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
        spkiSha256: parsed.spkiSha256,
        x5tS256: parsed.x5t,
        subject: parsed.subjectRfc4514,
        environment: input.environment ?? null,
        allowMissingEku: input.allowMissingEku === true,
        notAfter: parsed.notAfter,
        createdAt: new Date(),
      };
      await db.transaction(async (trx) => {
        if (await trustAnchors.findByName(trx, input.name)) {
          throw new ConflictError('ERR_TRUST_ANCHOR_EXISTS', `A trust anchor named "${input.name}" already exists.`, { hint: 'Pick another name, or remove the old one first.' });
        }
        const same = await trustAnchors.findBySpki(trx, anchor.spkiSha256);
        if (same) {
          throw new ConflictError('ERR_TRUST_ANCHOR_KEY_EXISTS', `This CA key is already trusted as "${same.name}".`, { hint: `One anchor per CA key: use "${same.name}", or remove it first.` });
        }
        await trustAnchors.insert(trx, anchor);
        await bumpRevision(trx, 'trust_anchors');
        await writeAudit(trx, { actor, action: 'trust.add', target: `trust:${anchor.name}`, after: { ...anchor, pem: undefined } });
      });
      return anchor;
    },

    listTrustAnchors: queries.listTrustAnchors,

    async showTrustAnchor(name: string): Promise<TrustAnchor> {
      return (await resolveAnchor(db, name))!;
    },

    async removeTrustAnchor(name: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const anchor = await resolveAnchor(trx, name);
        const pinned = await trustAnchors.countMappingsPinned(trx, anchor!.id);
        if (pinned.length) {
          throw new ConflictError('ERR_TRUST_ANCHOR_IN_USE', `Trust anchor "${name}" is pinned by mappings of: ${[...new Set(pinned.map((p) => p.clientId))].join(', ')}.`, {
            hint: 'Remove or re-pin those mappings first.',
          });
        }
        await trustAnchors.remove(trx, anchor!.id);
        await bumpRevision(trx, 'trust_anchors');
        await writeAudit(trx, { actor, action: 'trust.remove', target: `trust:${name}`, before: { ...anchor, pem: undefined } });
      });
    },

    // ---- resource servers ----------------------------------------------------------------------
    /**
     * Creates or replaces a resource server. `expect: 'new'` refuses an existing identifier (409),
     * `expect: 'existing'` refuses an unknown one (404); without it the call is an upsert (the CLI).
     */
    async addResourceServer(input: AddResourceServerInput, actor: string, options: { expect?: 'new' | 'existing' } = {}): Promise<ResourceServer> {
      let url: URL | undefined;
      try {
        url = new URL(input.identifier);
      } catch {
        url = undefined;
      }
      // The URL parser drops or percent-encodes whitespace and control characters, but the identifier is
      // stored as given: a URI (RFC 3986) holds none, and PostgreSQL text cannot hold U+0000.
      if (!url || url.hash || !/^(https:|urn:)/.test(url.protocol) || /[\s\x00-\x1f\x7f]/.test(input.identifier) || input.identifier.length > MAX_RESOURCE_ID_LENGTH) {
        const shown = input.identifier.length > 200 ? `${input.identifier.slice(0, 200)}...` : input.identifier;
        throw new InvalidInputError('ERR_RESOURCE_ID_INVALID', `${JSON.stringify(shown)} is not a valid resource indicator`, {
          hint: `Use an absolute https:// URI without a fragment, spaces or control characters, of at most ${MAX_RESOURCE_ID_LENGTH} characters (RFC 8707), e.g. https://api.example.com, or a urn:.`,
        });
      }
      const scopes = requireScopes(input.scopes, '--scope');
      if (!scopes.length) throw new InvalidInputError('ERR_SCOPE_INVALID', 'A resource server needs at least one scope', { hint: 'e.g. --scope "read write"' });
      const ttl = input.ttl;
      if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 10 || ttl > 86_400)) {
        throw new InvalidInputError('ERR_TTL_INVALID', `--ttl ${ttl} is out of range`, { hint: 'Use a whole number of seconds from 10 to 86400.' });
      }
      const format = input.tokenFormat ?? 'jwt';
      if (format !== 'jwt' && format !== 'opaque') throw new InvalidInputError('ERR_FORMAT_INVALID', `--format ${format} is not jwt or opaque`);
      const introspectionClients = input.introspectionClients === undefined ? undefined : [...new Set(input.introspectionClients)];
      for (const id of introspectionClients ?? []) {
        if (!CLIENT_ID.test(id)) throw new InvalidInputError('ERR_CLIENT_ID_INVALID', `--introspection-clients: "${id}" is not a valid client id`, { hint: 'Give the client ids, space-separated.' });
      }
      return db.transaction(async (trx) => {
        const before = await resourceServers.find(trx, input.identifier);
        if (introspectionClients?.length) await assertClientsExist(trx, introspectionClients);
        if (before && options.expect === 'new') {
          throw new ConflictError('ERR_RESOURCE_EXISTS', `A resource server "${input.identifier}" already exists.`, { hint: 'Update it instead, or remove it first.' });
        }
        if (!before && options.expect === 'existing') throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${input.identifier}".`);
        const rs: ResourceServer = {
          identifier: input.identifier,
          scopes,
          tokenFormat: format,
          ttl: ttl ?? null,
          signingAlg: null,
          introspectionClients: introspectionClients ?? before?.introspectionClients ?? [],
          createdAt: before?.createdAt ?? new Date(),
          updatedAt: new Date(),
        };
        await resourceServers.upsert(trx, rs);
        await writeAudit(trx, { actor, action: before ? 'resource.update' : 'resource.add', target: `resource:${rs.identifier}`, before, after: rs });
        return rs;
      });
    },

    listResourceServers: queries.listResourceServers,

    async showResourceServer(identifier: string): Promise<ResourceServer> {
      const rs = await resourceServers.find(db, identifier);
      if (!rs) throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${identifier}".`, { hint: 'List them with: certbound resource list' });
      return rs;
    },

    /**
     * Makes sure a resource server exists and offers at least `scopes` (adding missing ones, keeping its
     * other settings). Idempotent: writes (with an audit row) only when something was missing.
     */
    ensureResourceServer(identifier: string, scopes: string[], actor: string): Promise<ResourceServer> {
      return ensureResourceServerScopes(db, identifier, scopes, actor);
    },

    async removeResourceServer(identifier: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await resourceServers.find(trx, identifier);
        if (!before) throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${identifier}".`);
        const users = (await clients.list(trx)).filter((c) => c.defaultResource === identifier).map((c) => c.clientId);
        if (users.length) {
          throw new ConflictError('ERR_RESOURCE_IN_USE', `Resource server "${identifier}" is the default resource of: ${users.join(', ')}.`, { hint: 'Change or remove those clients first.' });
        }
        await resourceServers.remove(trx, identifier);
        await writeAudit(trx, { actor, action: 'resource.remove', target: `resource:${identifier}`, before });
      });
    },

    // ---- clients -------------------------------------------------------------------------------
    async addClient(input: AddClientInput, actor: string): Promise<ClientRecord> {
      if (!CLIENT_ID.test(input.clientId)) {
        throw new InvalidInputError('ERR_CLIENT_ID_INVALID', `"${input.clientId}" is not a valid client id`, {
          hint: 'Use letters, digits and . _ ~ : @ - (at most 255), starting with a letter or digit.',
        });
      }
      if ([input.mapping, input.selfSignedCertPem, input.selfSignedJwks, input.selfSignedJwksUri, input.privateKeyJwtJwks, input.privateKeyJwtJwksUri].filter(Boolean).length !== 1) {
        throw new InvalidInputError('ERR_CLIENT_SUBJECT_REQUIRED', 'Give exactly one way for the client to authenticate: a subject DN or SAN mapping, a self-signed certificate (or where it is published), or private_key_jwt keys (or where they are published).', {
          hint: 'Use one of --subject-dn, --san-dns, --san-uri, --san-ip, --san-email, --self-signed-cert, --self-signed-jwks, --self-signed-jwks-uri, --private-key-jwt-jwks or --private-key-jwt-jwks-uri (RFC 8705 §2.1.2: exactly one subject).',
        });
      }
      const authMethod: AuthMethod = input.privateKeyJwtJwks || input.privateKeyJwtJwksUri ? 'private_key_jwt' : input.mapping ? 'tls_client_auth' : 'self_signed_tls_client_auth';
      const { jwks, jwksUri } = input.mapping
        ? { jwks: null, jwksUri: null }
        : input.selfSignedCertPem
          ? { jwks: await jwksFromCertificatePem(input.selfSignedCertPem), jwksUri: null }
          : await keysOf(authMethod, { jwks: input.privateKeyJwtJwks ?? input.selfSignedJwks, jwksUri: input.privateKeyJwtJwksUri ?? input.selfSignedJwksUri });
      const scopes = requireScopes(input.scopes ?? [], '--scope');
      return db.transaction(async (trx) => {
        if (await clients.find(trx, input.clientId)) {
          throw new ConflictError('ERR_CLIENT_EXISTS', `A client "${input.clientId}" already exists.`, { hint: 'Inspect it (certbound client show ID, GET /admin/clients/ID), or pick another id.' });
        }
        await assertScopesOffered(trx, scopes, input.defaultResource);
        const anchor = input.mapping ? await resolveAnchor(trx, input.mapping.trustAnchor) : undefined;
        const mapping = input.mapping ? buildMapping(input.clientId, input.mapping, anchor) : undefined;
        if (mapping) await assertNoOverlap(trx, mapping, input.mapping?.allowOverlap);
        const now = new Date();
        const record: ClientRecord = {
          clientId: input.clientId,
          authMethod,
          boundTokens: input.boundTokens ?? true,
          scopes,
          defaultResource: input.defaultResource ?? null,
          jwks,
          jwksUri,
          metadata: { grant_types: ['client_credentials'] },
          mappings: mapping ? [mapping] : [],
          createdAt: now,
          updatedAt: now,
        };
        await clients.insert(trx, record);
        await writeAudit(trx, { actor, action: 'client.add', target: `client:${record.clientId}`, after: record });
        return record;
      });
    },

    listClients: queries.listClients,

    /**
     * Changes scopes, default resource, bound-token setting and/or the registered keys (key rotation of a
     * private_key_jwt client, new certificates of a self-signed one); the new values apply to the next
     * token request.
     */
    /** `keepAnAdministrator` (the admin API): refuse a change (scope, bound tokens, keys) after which no client could sign in to the admin API with the admin scope. */
    async updateClient(clientId: string, input: UpdateClientInput, actor: string, fields: { scopes?: string; jwks?: string; jwksUri?: string } = {}, options: { keepAnAdministrator?: boolean } = {}): Promise<ClientRecord> {
      const scopes = input.scopes === undefined ? undefined : requireScopes(input.scopes, fields.scopes ?? '--scope');
      // Keys are checked (and a jwks_uri fetched) before the transaction: no network wait inside it.
      const keys = input.jwks === undefined && input.jwksUri === undefined ? undefined : await newKeysOf(clientId, input, fields);
      return db.transaction(async (trx) => {
        const before = await clients.find(trx, clientId);
        if (!before) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { hint: 'List clients with: certbound client list' });
        const defaultResource = input.defaultResource === undefined ? before.defaultResource : input.defaultResource;
        await assertScopesOffered(trx, scopes ?? before.scopes, defaultResource ?? undefined);
        if (options.keepAnAdministrator) {
          const after: ClientRecord = { ...before, scopes: scopes ?? before.scopes, boundTokens: input.boundTokens ?? before.boundTokens, ...(keys ?? {}) };
          const change = scopes && !scopes.includes(ADMIN_SCOPE) ? 'withdrawing the scope' : input.boundTokens === false ? 'turning bound tokens off' : 'this change';
          await assertAnotherAdministrator(trx, before, after, change);
        }
        await clients.update(trx, clientId, { scopes, defaultResource: input.defaultResource, boundTokens: input.boundTokens, ...(keys ?? {}) });
        const after = (await clients.find(trx, clientId))!;
        await writeAudit(trx, { actor, action: 'client.update', target: `client:${clientId}`, before, after });
        return after;
      });
    },

    showClient: queries.showClient,

    /** `keepAnAdministrator` (the admin API): refuse to remove the last client that can sign in to the admin API with the admin scope. */
    async removeClient(clientId: string, actor: string, options: { keepAnAdministrator?: boolean } = {}): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await clients.find(trx, clientId);
        if (!before) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { hint: 'List clients with: certbound client list' });
        if (options.keepAnAdministrator) await assertAnotherAdministrator(trx, before, undefined, 'removing it');
        await clients.remove(trx, clientId);
        // A later client registered under the same id must not inherit the right to introspect.
        for (const rs of await resourceServers.list(trx)) {
          if (!rs.introspectionClients.includes(clientId)) continue;
          const after = { ...rs, introspectionClients: rs.introspectionClients.filter((id) => id !== clientId), updatedAt: new Date() };
          await resourceServers.upsert(trx, after);
          await writeAudit(trx, { actor, action: 'resource.update', target: `resource:${rs.identifier}`, before: rs, after });
        }
        // The client's stored tokens: LIKE (its wildcards escaped) only narrows the rows; the JSON decides,
        // so neither `_` in an id nor SQLite's case-insensitive LIKE reaches another client's tokens.
        const pattern = `%"clientId":${JSON.stringify(clientId).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const stored = (await trx('oidc_payloads')
          .whereIn('model', ['ClientCredentials', 'AccessToken', 'RefreshToken'])
          .andWhereRaw('payload like ? escape ?', [pattern, '\\'])
          .select('model', 'id', 'payload')) as { model: string; id: string; payload: string }[];
        for (const row of stored) {
          if ((JSON.parse(row.payload) as { clientId?: unknown }).clientId === clientId) await trx('oidc_payloads').where({ model: row.model, id: row.id }).delete();
        }
        await writeAudit(trx, { actor, action: 'client.remove', target: `client:${clientId}`, before });
      });
    },

    async addMapping(clientId: string, input: MappingInput, actor: string): Promise<MappingRecord> {
      return db.transaction(async (trx) => {
        const client = await clients.find(trx, clientId);
        if (!client) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`);
        if (client.authMethod !== 'tls_client_auth') {
          throw new InvalidInputError('ERR_CLIENT_NOT_PKI', `Client "${clientId}" uses ${client.authMethod}; certificate mappings apply to tls_client_auth clients.`);
        }
        const anchor = await resolveAnchor(trx, input.trustAnchor);
        const mapping = buildMapping(clientId, input, anchor);
        await assertNoOverlap(trx, mapping, input.allowOverlap);
        await clients.insertMapping(trx, mapping);
        await writeAudit(trx, { actor, action: 'mapping.add', target: `client:${clientId}`, after: input.allowOverlap ? { ...mapping, allowOverlap: true } : mapping });
        return mapping;
      });
    },

    /**
     * Changes a mapping's validity window, e.g. `--not-after` on the old mapping of a rotation.
     * `undefined` keeps a side, `null` opens it. The overlap check runs on the new window; a change that
     * would leave the client with no mapping valid now, where this one is, is refused (as removing the
     * last mapping is).
     */
    async updateMapping(clientId: string, mappingId: string, input: { notBefore?: Date | null; notAfter?: Date | null; allowOverlap?: boolean }, actor: string): Promise<MappingRecord> {
      return db.transaction(async (trx) => {
        const client = await clients.find(trx, clientId);
        if (!client) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`);
        const before = client.mappings.find((m) => m.id === mappingId);
        if (!before) throw new NotFoundError('ERR_MAPPING_UNKNOWN', `Client "${clientId}" has no mapping ${mappingId}.`, { hint: `certbound client mapping list ${clientId} lists its mappings.` });
        if (input.notBefore === undefined && input.notAfter === undefined) {
          throw new InvalidInputError('ERR_MAPPING_NO_CHANGE', 'Nothing to change: give a new not_before or not_after.');
        }
        const after: MappingRecord = {
          ...before,
          notBefore: input.notBefore === undefined ? before.notBefore : input.notBefore,
          notAfter: input.notAfter === undefined ? before.notAfter : input.notAfter,
        };
        assertValidWindow(after.notBefore ?? undefined, after.notAfter ?? undefined);
        const now = Date.now();
        if (isMappingValidAt(before, now) && !isMappingValidAt(after, now) && !client.mappings.some((m) => m.id !== mappingId && isMappingValidAt(m, now))) {
          throw new ConflictError('ERR_MAPPING_LAST', `Mapping ${mappingId} is the only mapping of "${clientId}" valid now; this window would lock the client out.`, {
            hint: 'Add the new mapping first (certbound client mapping add), then end the old one.',
          });
        }
        await assertNoOverlap(trx, after, input.allowOverlap);
        await clients.setMappingWindow(trx, clientId, mappingId, { notBefore: after.notBefore, notAfter: after.notAfter });
        await writeAudit(trx, { actor, action: 'mapping.update', target: `client:${clientId}`, before, after: input.allowOverlap ? { ...after, allowOverlap: true } : after });
        return after;
      });
    },

    async removeMapping(clientId: string, mappingId: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const client = await clients.find(trx, clientId);
        if (!client) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`);
        const mapping = client.mappings.find((m) => m.id === mappingId);
        if (!mapping) throw new NotFoundError('ERR_MAPPING_UNKNOWN', `Client "${clientId}" has no mapping ${mappingId}.`, { hint: `certbound client mapping list ${clientId} (GET /admin/clients/${clientId}/mappings) lists its mappings.` });
        if (client.mappings.length === 1) {
          throw new ConflictError('ERR_MAPPING_LAST', `Mapping ${mappingId} is the only mapping of "${clientId}"; removing it would lock the client out.`, {
            hint: 'Add the new mapping first, or remove the client.',
          });
        }
        await clients.removeMapping(trx, clientId, mappingId);
        await writeAudit(trx, { actor, action: 'mapping.remove', target: `client:${clientId}`, before: mapping });
      });
    },

    // ---- audit log -----------------------------------------------------------------------------
    /** Newest first; `target` is exact (`client:billing`, `trust:corp-root`, `resource:URI`, `key:KID`); actor and action exact or a prefix. */
    listAudit: (options: AuditFilter = {}): Promise<AuditEntry[]> => listAudit(db, options),

    // ---- what the console shows beside the records ---------------------------------------------
    /** Certificates and mappings that end within `withinMs` (`certbound certs expiring`). */
    expiring: (withinMs: number, now?: Date) => expiringReport(db, { withinMs, ...(now ? { now } : {}) }),
    /** The certificates a client last authenticated with, one per mapping. */
    lastSeen: async (clientId: string) => (await lastSeen.list(db)).filter((s) => s.clientId === clientId),
    /** The CRLs of every trust anchor (`certbound trust crl list`). */
    listCrls: () => createCrlService({ db }).listCrls(),
    /** Stops checking a trust anchor's certificates against one of its CRLs (`certbound trust crl remove`). */
    removeCrl: (anchorName: string, id: string, actor: string) => createCrlService({ db }).removeCrl(anchorName, id, actor),

    // ---- signing keys --------------------------------------------------------------------------
    listKeys: queries.listKeys,

    /** Creates the first signing key when there is none; returns true when it did. */
    async ensureActiveKey(actor: string): Promise<boolean> {
      const key = await generateSigningKey(signingAlg);
      const created = await db.transaction(async (trx) => {
        // Write first: the revision row lock serializes replicas starting at once, so the check below
        // sees a key another replica just committed (no second active key).
        await bumpRevision(trx, 'signing_keys');
        const existing = await trx('signing_keys').where({ status: 'active' }).first();
        if (existing) {
          await trx.rollback();
          return false;
        }
        await signingKeys.insert(trx, key, keyEncryptionKey);
        await writeAudit(trx, { actor, action: 'keys.create', target: `key:${key.kid}`, after: { kid: key.kid, alg: key.alg } });
        return true;
      });
      // a rolled-back transaction resolves to undefined
      return created === true;
    },

    /**
     * Adds a new active key. The previous active key becomes `inactive`: still published in the JWKS
     * so tokens it signed keep verifying, until `retireKey` removes it.
     */
    async rotateKeys(actor: string, alg: SigningAlgorithm = signingAlg): Promise<Omit<SigningKey, 'privateJwk'>> {
      const key = await generateSigningKey(alg);
      await db.transaction(async (trx) => {
        await bumpRevision(trx, 'signing_keys');
        await trx('signing_keys').where({ status: 'active' }).update({ status: 'inactive' });
        await signingKeys.insert(trx, key, keyEncryptionKey);
        await writeAudit(trx, { actor, action: 'keys.rotate', target: `key:${key.kid}`, after: { kid: key.kid, alg: key.alg } });
      });
      const { privateJwk: _omit, ...pub } = key;
      return pub;
    },

    async retireKey(kid: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const status = await signingKeys.statusOf(trx, kid);
        if (!status) throw new NotFoundError('ERR_KEY_UNKNOWN', `There is no signing key ${kid}.`, { hint: 'certbound keys list shows the keys.' });
        if (status === 'active') {
          throw new ConflictError('ERR_KEY_ACTIVE', `Key ${kid} is the active signing key.`, { hint: 'Rotate first (certbound keys rotate), then retire the old key.' });
        }
        await signingKeys.setStatus(trx, kid, 'retired');
        await bumpRevision(trx, 'signing_keys');
        await writeAudit(trx, { actor, action: 'keys.retire', target: `key:${kid}` });
      });
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
