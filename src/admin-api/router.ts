/**
 * A table-driven router: every admin route is one row (method, OpenAPI path template, required access,
 * zod schemas, handler). The same rows drive dispatch, validation and the OpenAPI document, so the
 * document cannot list a route that does not exist or miss one that does.
 */
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `read`: certbound:admin:read or certbound:admin; `write`: certbound:admin; `public`: no token. */
export type Access = 'public' | 'read' | 'write';

/** The authenticated administrator of a request. */
export interface AdminPrincipal {
  clientId: string;
  /** `x5t#S256` of the certificate the token is bound to (and that was presented on this connection). */
  thumbprint: string;
  scopes: string[];
  /** Audit actor: `admin:<client_id>:<x5t#S256>`. */
  actor: string;
  /** Name of the trust anchor the request's certificate chains to, when known (not for a self-signed client). */
  trustAnchor?: string;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Undefined only on `public` routes. */
  principal: AdminPrincipal | undefined;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface RouteResponse {
  status: number;
  description: string;
  /** Absent for 204. */
  schema?: z.ZodType;
}

export interface RouteDefinition<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/admin/clients/{client_id}`; each `{name}` is one URL-encoded segment. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  /** JSON request body; when absent, a non-empty body is refused. */
  body?: B;
  /** A body is accepted but not required (e.g. key rotation with defaults); absent, `{}` is validated. */
  bodyOptional?: boolean;
  /** A singleton record that may not exist (no path parameter names it): the route may answer 404. */
  singleton?: boolean;
  /** Error code → request field it is about, for the route's own refusals (a use case names its input member itself). */
  fields?: Readonly<Record<string, string>>;
  response: RouteResponse;
  handler(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<RouteResult>;
}

/** A route with its types erased, as stored in the table. */
export type Route = RouteDefinition<z.ZodType, z.ZodType, z.ZodType> & { pattern: RegExp; paramNames: string[] };

/** Declares a route; the handler's input is typed from the schemas. */
export function defineRoute<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType>(definition: RouteDefinition<P, Q, B>): Route {
  const paramNames: string[] = [];
  const source = definition.path
    .split('/')
    .map((segment) => {
      const m = /^\{([a-z_]+)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(m[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { ...(definition as unknown as RouteDefinition), pattern: new RegExp(`^${source}$`), paramNames };
}

export type RouteMatch = { kind: 'found'; route: Route; params: Record<string, string> } | { kind: 'method_not_allowed'; allowed: HttpMethod[] } | { kind: 'not_found' };

/** Finds the route for a method and a raw (still percent-encoded) path. */
export function matchRoute(routes: readonly Route[], method: string, rawPath: string): RouteMatch {
  const allowed: HttpMethod[] = [];
  for (const route of routes) {
    const m = route.pattern.exec(rawPath);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [i, name] of route.paramNames.entries()) {
      try {
        params[name] = decodeURIComponent(m[i + 1]!);
      } catch {
        return { kind: 'not_found' };
      }
    }
    return { kind: 'found', route, params };
  }
  return allowed.length ? { kind: 'method_not_allowed', allowed } : { kind: 'not_found' };
}
