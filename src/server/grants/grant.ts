/**
 * What a grant brings to the server: one object per grant type, in a file of its own under grants/,
 * registered in grants/index.ts. The provider (provider.ts), the client metadata, discovery and the
 * issuance metrics read the registered grants; none of them names a grant type.
 */
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { ResourceServer, SigningKey } from '../../store/index.js';
import type { Refusal } from '../peer-certificate.js';
import type { ResourceAccess, ResourceServerInfo } from './resource-access.js';
import type { GrantType } from '../../config/grant-types.js';

/** One provider's state, as a grant's rules read it (the provider is rebuilt when signing keys change). */
export interface GrantContext {
  config: Config;
  keys: readonly SigningKey[];
  /** The scope and audience rules every grant applies (resource-access.ts). */
  access: ResourceAccess;
}

/** What oidc-provider reports with a refused grant request (its `grant.error` event). */
export interface GrantError {
  error?: string;
  error_detail?: string;
  error_description?: string;
}

export interface Grant {
  /** The `grant_type` value (RFC 6749): in client metadata, discovery's grant_types_supported, the token request. */
  readonly type: GrantType;
  /**
   * The RFC 6749 `response_type` values the grant starts with at the authorization endpoint (none for a
   * grant served at the token endpoint only): a client with the grant registers them, discovery lists them.
   */
  readonly responseTypes?: readonly string[];
  /**
   * Whether a public client (`none`: no client authentication, its certificate is proof of possession
   * only, RFC 8705 §4) may use the grant. A grant where the client's credentials are the only proof
   * (client_credentials) is never offered to one.
   */
  readonly publicClients: boolean;
  /** The oidc-provider `features` that turn the grant on. */
  readonly features: NonNullable<Configuration['features']>;
  /** The provider events that mean a token was issued, with the format the metrics label it with. */
  readonly issuedEvents: readonly { event: string; format: 'jwt' | 'opaque' }[];
  /** The oidc-provider `ttl` entries of the tokens the grant issues. */
  ttl(context: GrantContext): NonNullable<Configuration['ttl']>;
  /**
   * RFC 8707: the access token a request of this grant gets for resource server `rs` (scopes, audience,
   * format, lifetime, signing algorithm), or an OAuth error (thrown) when the client may not have one.
   * `rs` is undefined when `resourceIndicator` is not registered.
   */
  resourceServerInfo(ctx: KoaContextWithOIDC, rs: ResourceServer | undefined, client: unknown, resourceIndicator: string | undefined, context: GrantContext): ResourceServerInfo;
  /**
   * A refused request of this grant that is worth a coded log line with a `ref` (as `invalid_client`
   * refusals are): the refusal, or undefined for an error oidc-provider's description already explains.
   */
  explainRefusal?(ctx: KoaContextWithOIDC, err: GrantError, thumbprint: string | undefined): Refusal | undefined;
}
