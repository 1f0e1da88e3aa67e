/** The verifier as koa and express/connect middleware: each answers a refusal itself (status, challenge, JSON). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import { VerifierError } from '../errors.js';
import type { Verifier, VerifiedRequest } from '../types.js';

export function koaMiddleware(verify: Verifier['verify'], scopes: string[] | undefined): Middleware {
  return async (ctx, next) => {
    let auth: VerifiedRequest;
    try {
      auth = await verify(ctx.req, { scopes, body: (ctx.request as { body?: unknown }).body });
    } catch (err) {
      if (!(err instanceof VerifierError)) throw err;
      ctx.status = err.status;
      ctx.set('Cache-Control', 'no-store');
      if (err.wwwAuthenticate) ctx.set('WWW-Authenticate', err.wwwAuthenticate);
      ctx.body = err.toBody();
      return;
    }
    ctx.state.auth = auth;
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

export function expressMiddleware(verify: Verifier['verify'], scopes: string[] | undefined): ReturnType<Verifier['express']> {
  return (req: IncomingMessage & { auth?: VerifiedRequest; body?: unknown }, res: ServerResponse, next: (err?: unknown) => void) => {
    verify(req, { scopes, body: req.body }).then(
      (auth) => {
        req.auth = auth;
        res.setHeader('Cache-Control', 'no-store');
        next();
      },
      (err: unknown) => {
        if (!(err instanceof VerifierError)) {
          next(err);
          return;
        }
        res.statusCode = err.status;
        res.setHeader('Cache-Control', 'no-store');
        if (err.wwwAuthenticate) res.setHeader('WWW-Authenticate', err.wwwAuthenticate);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(err.toBody()));
      },
    );
  };
}
