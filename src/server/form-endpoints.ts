/**
 * The endpoints that take their parameters as a form POST: token (RFC 6749 §3.2), introspection
 * (RFC 7662 §2.1) and revocation (RFC 7009 §2.1). oidc-provider reads a POST's parameters from the body
 * only and has no route for another method there; certbound says so in an OAuth error instead of a bare
 * "missing parameter" or koa's text 404.
 */
import { oauthErrorBody } from '../errors/index.js';

/** What of a koa context this module reads and answers on. */
export interface FormEndpointContext {
  method: string;
  path: string;
  querystring: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

export interface FormEndpoints {
  /**
   * A request with another method than POST at one of the endpoints, which oidc-provider left
   * unanswered (404): answers 405 with an OAuth error and `Allow: POST`. True when it answered.
   */
  refuseOtherMethod(ctx: FormEndpointContext): boolean;
  /**
   * An invalid_request at one of the endpoints whose URL carried a query: adds to the description that
   * parameters in the query are not read, and where they belong.
   */
  explainQuery(ctx: FormEndpointContext, body: { error?: string; error_description?: string }): void;
}

const NAMES = { token: 'token endpoint', introspection: 'introspection endpoint', revocation: 'revocation endpoint' } as const;

/** `pathFor`: oidc-provider's path of each route (Provider#pathFor). */
export function createFormEndpoints(pathFor: (route: keyof typeof NAMES) => string): FormEndpoints {
  const names = new Map(Object.entries(NAMES).map(([route, name]) => [pathFor(route as keyof typeof NAMES), name]));
  return {
    refuseOtherMethod(ctx) {
      if (ctx.status !== 404 || ctx.body !== undefined || ctx.method === 'POST') return false;
      const name = names.get(ctx.path);
      if (!name) return false;
      ctx.status = 405;
      ctx.set('allow', 'POST');
      ctx.set('cache-control', 'no-store');
      ctx.body = oauthErrorBody('invalid_request', `the ${name} accepts POST only (got ${ctx.method}), with the parameters in an application/x-www-form-urlencoded body`);
      return true;
    },
    explainQuery(ctx, body) {
      if (body.error !== 'invalid_request' || !ctx.querystring || ctx.method !== 'POST') return;
      const name = names.get(ctx.path);
      if (!name) return;
      const said = body.error_description ? `${body.error_description}; ` : '';
      body.error_description = `${said}the ${name} does not read parameters in the URL query: send them in the application/x-www-form-urlencoded request body`;
    },
  };
}
