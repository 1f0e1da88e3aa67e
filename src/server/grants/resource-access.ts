/**
 * The scope and audience rules of an access token for a resource server (RFC 8707), shared by every
 * grant: the client must hold each requested scope and the resource server must offer it; the token's
 * audience, lifetime, format and signing algorithm are the resource server's. A grant decides only what
 * a request without `scope` gets (see `defaultToHeldScopes`).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { ResourceServer, SigningKey } from '../../store/index.js';

/** What oidc-provider's `getResourceServerInfo` returns: the access token issued for a resource server. */
export interface ResourceServerInfo {
  scope: string;
  audience: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt' | 'opaque';
  jwt?: { sign: { alg: string } };
}

export interface AccessRequest {
  ctx: KoaContextWithOIDC;
  /** The registered resource server; undefined when `resourceIndicator` is not registered. */
  rs: ResourceServer | undefined;
  client: unknown;
  resourceIndicator: string | undefined;
  /**
   * A token request without `scope` gets every scope the client holds at the resource (RFC 6749 §3.3
   * default), and is refused when that is none: a token without a scope would pass every resource server
   * that does not insist on one.
   */
  defaultToHeldScopes: boolean;
  /**
   * The token carries only scopes the client holds now (a grant whose scopes were decided earlier, at the
   * authorization endpoint: an administrator may have taken one away since).
   */
  heldOnly?: boolean;
  /**
   * A request without `scope` is refused (the authorization endpoint: the user consents to scopes the
   * request names, never to everything the client holds).
   */
  requireScope?: boolean;
}

/** Why an authorization request without `scope` is refused, and what to send. */
function scopeRequired(clientId: string, resource: string, held: ReadonlySet<string>, offered: ReadonlySet<string>): string {
  const usable = [...held].filter((s) => offered.has(s));
  return `an authorization request names the scopes the user is asked to consent to: send scope with scopes ${clientId} holds at ${resource}${usable.length ? ` (${usable.join(' ')})` : ''}`;
}

/**
 * Why a client gets no token for a resource it holds no scope on, and how that changes (RFC 6749
 * error_description: no double quotes or backslashes, hence the single quotes).
 */
function noScopeHeld(clientId: string, resource: string, held: ReadonlySet<string>): string {
  const holds = held.size ? `it holds ${[...held].join(' ')}` : 'it holds no scopes';
  const scopes = [...held, '<scope>'].join(' ');
  return (
    `client ${clientId} holds no scope offered by ${resource} (${holds}); request a resource it holds a scope on, or have an administrator grant ` +
    `one of that resource's scopes: certbound client update ${clientId} --scope '${scopes}' (admin API: PATCH /admin/clients/${clientId})`
  );
}

/** Why requested scopes were refused, and what the client may request at the resource instead. */
function scopeRefused(why: string, refused: string[], clientId: string, held: ReadonlySet<string>, offered: ReadonlySet<string>): string {
  const usable = [...held].filter((s) => offered.has(s));
  const instead = usable.length
    ? `request only scopes the client holds there (${usable.join(' ')}), or omit scope to get them all`
    : `the client holds no scope there; an administrator grants one with certbound client update ${clientId} --scope '${[...held, '<scope>'].join(' ')}' (admin API: PATCH /admin/clients/${clientId})`;
  return `requested scope ${refused.join(' ')} ${why}: ${instead}`;
}

function requestedScopes(ctx: KoaContextWithOIDC): string[] {
  const raw = (ctx.oidc.params as Record<string, unknown> | undefined)?.scope;
  return typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
}

/** The rules over one provider's configuration and keys. */
export function createResourceAccess({ config, keys }: { config: Config; keys: readonly SigningKey[] }) {
  /**
   * The scopes of a client (its oidc-provider instance) or of a resource server as a Set, made once per
   * object: both objects are replaced, never changed, when an admin write changes them.
   */
  const scopeSets = new WeakMap<object, ReadonlySet<string>>();
  function scopeSetOf<T extends object>(owner: T, scopes: (o: T) => readonly string[]): ReadonlySet<string> {
    let set = scopeSets.get(owner);
    if (!set) {
      set = new Set(scopes(owner).filter(Boolean));
      scopeSets.set(owner, set);
    }
    return set;
  }

  return {
    /** The access token for `rs`; refuses scopes the client or the resource lacks. */
    tokenFor({ ctx, rs, client, resourceIndicator = rs?.identifier, defaultToHeldScopes, heldOnly, requireScope }: AccessRequest): ResourceServerInfo {
      if (!rs) throw new errors.InvalidTarget(`resource ${resourceIndicator} is not registered`);
      const clientScopes = scopeSetOf(client as { certbound_scopes?: string[] }, (c) => c.certbound_scopes ?? []);
      const offered = scopeSetOf(rs, (r) => r.scopes);
      const { clientId } = client as { clientId: string };
      let requested = requestedScopes(ctx);
      if (defaultToHeldScopes && requested.length === 0) {
        requested = [...clientScopes].filter((s) => offered.has(s));
        if (requested.length === 0) throw new errors.InvalidTarget(noScopeHeld(clientId, rs.identifier, clientScopes));
        (ctx.oidc.params as Record<string, unknown>).scope = requested.join(' ');
      }
      if (requireScope && requested.length === 0) throw new errors.InvalidScope(scopeRequired(clientId, rs.identifier, clientScopes, offered), '');
      const notClient = requested.filter((s) => !clientScopes.has(s));
      if (notClient.length) throw new errors.InvalidScope(scopeRefused('is not allowed for this client', notClient, clientId, clientScopes, offered), notClient.join(' '));
      const notOffered = requested.filter((s) => !offered.has(s));
      if (notOffered.length) throw new errors.InvalidScope(scopeRefused(`is not offered by ${rs.identifier}`, notOffered, clientId, clientScopes, offered), notOffered.join(' '));
      return {
        scope: heldOnly ? rs.scopes.filter((s) => clientScopes.has(s)).join(' ') : rs.scopes.join(' '),
        audience: rs.identifier,
        accessTokenTTL: rs.ttl ?? config.accessTokenTtl,
        accessTokenFormat: rs.tokenFormat,
        ...(rs.tokenFormat === 'jwt' ? { jwt: { sign: { alg: rs.signingAlg ?? keys.find((k) => k.status === 'active')?.alg ?? config.signingAlg } } } : {}),
      };
    },
  };
}

export type ResourceAccess = ReturnType<typeof createResourceAccess>;
