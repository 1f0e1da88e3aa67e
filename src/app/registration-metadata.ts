/**
 * RFC 7591 client metadata, read into certbound's client model and written back from it. The members
 * certbound honours: `token_endpoint_auth_method` (tls_client_auth, self_signed_tls_client_auth,
 * private_key_jwt), exactly one RFC 8705 `tls_client_auth_*` member, `jwks` or `jwks_uri`, `scope`,
 * `grant_types` (client_credentials), `tls_client_certificate_bound_access_tokens` and `client_name`.
 * Unknown members are ignored (RFC 7591 §2); a member certbound cannot honour is refused, naming it.
 */
import { InvalidInputError } from '../errors/index.js';
import { MAPPING_KIND_PARAMETER, MAPPING_KINDS, type MappingKind } from '../mapping/kinds.js';
import type { AuthMethod, ClientRecord, RegistrationLimits } from '../store/index.js';
import type { AddClientInput } from './clients.js';

const AUTH_METHODS: readonly AuthMethod[] = ['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt'];
/** The RFC 8705 member of each mapping kind, and back. */
const KIND_OF_MEMBER = new Map<string, MappingKind>(MAPPING_KINDS.map((k) => [MAPPING_KIND_PARAMETER[k], k]));

/** What a registration asks for, in the client use cases' terms, and the request member of each input. */
export interface RequestedClient {
  authMethod: AuthMethod;
  /** AddClientInput without its client id. */
  input: Omit<AddClientInput, 'clientId'>;
  /** The RFC 7591 member each input member came from (`mapping.value` → `tls_client_auth_san_dns`). */
  members: Record<string, string>;
  clientName: string | undefined;
}

/** C0 and C1 controls, DEL, and the Unicode bidirectional and line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A value echoed in a refusal: short, so a huge member is not sent back whole. */
function quoted(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}... (${value.length} characters)` : value;
}

function refuse(member: string, message: string): InvalidInputError {
  return new InvalidInputError('ERR_REGISTRATION_METADATA', message, { details: { member } });
}

function stringMember(metadata: Record<string, unknown>, member: string): string | undefined {
  const value = metadata[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw refuse(member, `${member} must be a non-empty string.`);
  return value;
}

/** The scopes asked for, limited to what the initial access token allows (none asked: all of those). */
function scopesOf(metadata: Record<string, unknown>, allowed: readonly string[]): string[] {
  const text = stringMember(metadata, 'scope');
  if (text === undefined) return [...allowed];
  const asked = text.split(' ').filter(Boolean);
  const beyond = asked.filter((s) => !allowed.includes(s));
  if (beyond.length) {
    throw new InvalidInputError(
      'ERR_REGISTRATION_SCOPE',
      `The scope(s) ${quoted(beyond.join(', '))} are beyond what this registration may ask for${allowed.length ? ` (${allowed.join(' ')})` : ' (no scope)'}.`,
      {
        details: { member: 'scope', beyond, allowed },
      },
    );
  }
  return asked;
}

/**
 * Reads RFC 7591 metadata into the client use cases' input, within the limits of `limits` (the initial
 * access token's or the software statement issuer's scopes and resources).
 *
 * @example
 * const { input } = requestedClient({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'billing.example.com', scope: 'read' }, token);
 */
export function requestedClient(metadata: Record<string, unknown>, limits: Pick<RegistrationLimits, 'scopes' | 'resources'>): RequestedClient {
  const mappingMembers = [...KIND_OF_MEMBER.keys()].filter((m) => metadata[m] !== undefined);
  const given = stringMember(metadata, 'token_endpoint_auth_method');
  const authMethod = (given ?? (mappingMembers.length ? 'tls_client_auth' : undefined)) as AuthMethod | undefined;
  if (authMethod === undefined || !AUTH_METHODS.includes(authMethod)) {
    throw refuse(
      'token_endpoint_auth_method',
      `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}${given ? ` (got ${quoted(given)})` : ''}: this server authenticates clients by certificate or private_key_jwt only.`,
    );
  }
  for (const member of ['redirect_uris', 'response_types'] as const) {
    const value = metadata[member];
    if (Array.isArray(value) ? value.length > 0 : value !== undefined)
      throw refuse(member, `${member} cannot be honoured: dynamic registration registers client_credentials clients only; an administrator registers authorization code clients.`);
  }
  const grants = metadata.grant_types;
  if (grants !== undefined && (!Array.isArray(grants) || grants.some((g) => g !== 'client_credentials'))) {
    throw refuse(
      'grant_types',
      'grant_types may hold client_credentials only: dynamic registration registers client_credentials clients; an administrator registers authorization code clients.',
    );
  }
  const bound = metadata.tls_client_certificate_bound_access_tokens;
  if (bound !== undefined && typeof bound !== 'boolean')
    throw refuse('tls_client_certificate_bound_access_tokens', 'tls_client_certificate_bound_access_tokens must be true or false.');
  const scopes = scopesOf(metadata, limits.scopes);
  const members: Record<string, string> = { scopes: 'scope', defaultResource: 'scope', boundTokens: 'tls_client_certificate_bound_access_tokens', clientId: 'client_id' };
  const input: Omit<AddClientInput, 'clientId'> = {
    scopes,
    // A registration names no resource of its own: its default is the token's resource, when it allows one.
    defaultResource: limits.resources.length === 1 ? limits.resources[0] : undefined,
    // RFC 8705 §3.4: omitted means false (MD-11); `client add` chooses true for the administrator.
    boundTokens: bound ?? false,
  };
  const jwksValue = metadata.jwks;
  const jwksUri = stringMember(metadata, 'jwks_uri');
  if (authMethod === 'tls_client_auth') {
    if (mappingMembers.length !== 1) {
      throw refuse(
        mappingMembers[1] ?? 'tls_client_auth_subject_dn',
        `A tls_client_auth registration gives exactly one of ${[...KIND_OF_MEMBER.keys()].join(', ')} (got ${mappingMembers.length}).`,
      );
    }
    const member = mappingMembers[0]!;
    if (jwksValue !== undefined || jwksUri !== undefined)
      throw refuse(jwksValue !== undefined ? 'jwks' : 'jwks_uri', 'A tls_client_auth client is known by its certificate subject, not by keys: leave out jwks and jwks_uri.');
    input.mapping = { kind: KIND_OF_MEMBER.get(member)!, value: stringMember(metadata, member)! };
    Object.assign(members, { 'mapping.value': member, 'mapping.kind': member, 'mapping.trustAnchor': member });
  } else {
    if (mappingMembers.length) throw refuse(mappingMembers[0]!, `${mappingMembers[0]} applies to tls_client_auth; a ${authMethod} client registers jwks or jwks_uri.`);
    if ((jwksValue === undefined) === (jwksUri === undefined)) throw refuse('jwks', `A ${authMethod} registration gives exactly one of jwks and jwks_uri.`);
    if (jwksValue !== undefined && (typeof jwksValue !== 'object' || jwksValue === null || Array.isArray(jwksValue)))
      throw refuse('jwks', 'jwks must be a JSON Web Key Set object.');
    const text = jwksValue === undefined ? undefined : JSON.stringify(jwksValue);
    if (authMethod === 'private_key_jwt') {
      if (text !== undefined) input.privateKeyJwtJwks = text;
      else input.privateKeyJwtJwksUri = jwksUri;
    } else if (text !== undefined) input.selfSignedJwks = text;
    else input.selfSignedJwksUri = jwksUri;
    Object.assign(members, {
      privateKeyJwtJwks: 'jwks',
      selfSignedJwks: 'jwks',
      privateKeyJwtJwksUri: 'jwks_uri',
      selfSignedJwksUri: 'jwks_uri',
      jwks: 'jwks',
      jwksUri: 'jwks_uri',
    });
  }
  const clientName = stringMember(metadata, 'client_name');
  if (clientName !== undefined && clientName.length > 200) throw refuse('client_name', 'client_name has at most 200 characters.');
  // The name is shown in the console, the CLI's tables and log lines: a control character there could forge or hide text.
  if (clientName !== undefined && CONTROL.test(clientName)) throw refuse('client_name', 'client_name holds a control character.');
  return { authMethod, input, members, clientName };
}

/** The RFC 7591 §3.2.1 metadata of a registered client (without the registration's own members). */
export function registeredMetadata(client: ClientRecord): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    client_id: client.clientId,
    client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
    token_endpoint_auth_method: client.authMethod,
    grant_types: ['client_credentials'],
    scope: client.scopes.join(' '),
    tls_client_certificate_bound_access_tokens: client.boundTokens,
  };
  const mapping = client.mappings.at(-1);
  if (mapping) metadata[MAPPING_KIND_PARAMETER[mapping.kind]] = mapping.value;
  if (client.jwks) metadata.jwks = client.jwks;
  if (client.jwksUri) metadata.jwks_uri = client.jwksUri;
  if (typeof client.metadata.client_name === 'string') metadata.client_name = client.metadata.client_name;
  return metadata;
}
