/**
 * The routes of the authorization code flow's records besides its clients: the upstream OpenID
 * Provider (show, set, remove), end users' consents (list, revoke) and refresh tokens (list, revoke).
 */
import {
  ConsentListSchema,
  ConsentParams,
  ConsentQuerySchema,
  RefreshTokenListSchema,
  RefreshTokenParams,
  RefreshTokenQuerySchema,
  RevokedConsentSchema,
  RevokedRefreshTokenSchema,
  SetUpstreamSchema,
  UpstreamSchema,
} from '../authorization-schemas.js';
import { defineRoute, type Route } from '../router.js';
import { NoQuery } from '../schemas.js';
import { consentJson, refreshTokenJson, upstreamJson } from '../serializers.js';
import { actorOf, ok, scopeList, type RouteContext } from './route-context.js';

export function authorizationRoutes({ service }: RouteContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/upstream',
      operationId: 'getUpstream',
      summary: 'Show the upstream OpenID Provider end users sign in at (whether a secret is set, the key thumbprint; never either one)',
      tag: 'authorization-code',
      access: 'read',
      singleton: true,
      query: NoQuery,
      response: { status: 200, description: 'The provider', schema: UpstreamSchema },
      handler: async () => ok(upstreamJson(await service.showUpstream())),
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/upstream',
      operationId: 'setUpstream',
      summary: 'Configure or replace the upstream OpenID Provider (issuer, client id, client secret or private key, scopes, subject claim)',
      tag: 'authorization-code',
      access: 'write',
      query: NoQuery,
      body: SetUpstreamSchema,
      response: { status: 200, description: 'The provider as stored', schema: UpstreamSchema },
      handler: async (input) => {
        const b = input.body;
        const view = await service.setUpstream(
          {
            issuer: b.issuer,
            clientId: b.client_id,
            authMethod: b.token_endpoint_auth_method,
            ...(b.client_secret === undefined ? {} : { clientSecret: b.client_secret }),
            ...(b.private_key === undefined ? {} : { privateKey: typeof b.private_key === 'string' ? b.private_key : JSON.stringify(b.private_key) }),
            ...(b.scope === undefined ? {} : { scopes: scopeList(b.scope) }),
            ...(b.subject_claim === undefined ? {} : { subjectClaim: b.subject_claim }),
          },
          actorOf(input),
          { check: b.check === true },
        );
        return ok(upstreamJson(view));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/upstream',
      operationId: 'deleteUpstream',
      summary: 'Remove the upstream OpenID Provider (end users cannot sign in until one is configured)',
      tag: 'authorization-code',
      access: 'write',
      singleton: true,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        await service.removeUpstream(actorOf(input));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/consents',
      operationId: 'listConsents',
      summary: "List end users' consents, by client and user",
      tag: 'authorization-code',
      access: 'read',
      query: ConsentQuerySchema,
      response: { status: 200, description: 'The consents', schema: ConsentListSchema },
      handler: async ({ query }) => ok({ items: (await service.listConsents({ clientId: query.client_id, accountId: query.user })).map(consentJson) }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/consents/{client_id}/{user}',
      operationId: 'revokeConsent',
      summary: "Revoke a user's consent to a client, and that user's tokens at that client (refresh tokens included); the next sign-in asks again",
      tag: 'authorization-code',
      access: 'write',
      params: ConsentParams,
      query: NoQuery,
      response: { status: 200, description: 'The revoked consent and how many tokens went with it', schema: RevokedConsentSchema },
      handler: async (input) => {
        const { consent, revokedTokens } = await service.revokeConsent(input.params.client_id, input.params.user, actorOf(input));
        return ok({ revoked: consentJson(consent), revoked_tokens: revokedTokens });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/refresh-tokens',
      operationId: 'listRefreshTokens',
      summary: 'List live refresh tokens by handle (never the tokens themselves), with client, user, bound certificate, scopes and dates',
      tag: 'authorization-code',
      access: 'read',
      query: RefreshTokenQuerySchema,
      response: { status: 200, description: 'The refresh tokens, oldest first', schema: RefreshTokenListSchema },
      handler: async ({ query }) => ok({ items: (await service.listRefreshTokens({ clientId: query.client_id, accountId: query.user })).map(refreshTokenJson) }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/refresh-tokens/{handle}',
      operationId: 'revokeRefreshToken',
      summary: 'Revoke a refresh token and its grant (the access and refresh tokens issued under it)',
      tag: 'authorization-code',
      access: 'write',
      params: RefreshTokenParams,
      query: NoQuery,
      response: { status: 200, description: 'The revoked token and how many tokens went with it', schema: RevokedRefreshTokenSchema },
      handler: async (input) => {
        const { token, revokedTokens } = await service.revokeRefreshToken(input.params.handle, actorOf(input));
        return ok({ revoked: refreshTokenJson(token), revoked_tokens: revokedTokens });
      },
    }),
  ];
}
