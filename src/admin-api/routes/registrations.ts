/**
 * The routes of dynamic client registration's administration: initial access tokens, trusted software
 * statement issuers, and the decision on a client that registered itself and awaits approval.
 */
import { defineRoute, type Route } from '../router.js';
import {
  CreatedRegistrationTokenSchema,
  CreateRegistrationTokenSchema,
  RegistrationTokenListSchema,
  RegistrationTokenParams,
  RegistrationTokenSchema,
  registrationTokenJson,
  CreateSoftwareIssuerSchema,
  SoftwareIssuerListSchema,
  SoftwareIssuerParams,
  SoftwareIssuerSchema,
  softwareIssuerJson,
} from '../registration-schemas.js';
import { ClientParams, ClientSchema, clientJson, NoQuery } from '../schemas.js';
import { actorOf, ok, scopeList, type RouteContext } from './route-context.js';

export function registrationRoutes({ service }: RouteContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/registration-tokens',
      operationId: 'listRegistrationTokens',
      summary: 'List initial access tokens (never the tokens themselves)',
      tag: 'registrations',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The initial access tokens', schema: RegistrationTokenListSchema },
      handler: async () => ok({ items: (await service.listRegistrationTokens()).map(registrationTokenJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/registration-tokens',
      operationId: 'createRegistrationToken',
      summary: 'Make an initial access token for POST /register; the token is in this answer only',
      tag: 'registrations',
      access: 'write',
      query: NoQuery,
      body: CreateRegistrationTokenSchema,
      response: { status: 201, description: 'The new token and its limits', schema: CreatedRegistrationTokenSchema },
      handler: async (input) => {
        const b = input.body;
        const { token, record } = await service.createRegistrationToken(
          { expiresInS: b.expires_in, maxUses: b.max_uses, scopes: scopeList(b.scope), resources: b.resources, environments: b.environments, approval: b.approval },
          actorOf(input),
        );
        return { status: 201, body: { ...registrationTokenJson(record), token } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/registration-tokens/{id}/revoke',
      operationId: 'revokeRegistrationToken',
      summary: 'Revoke an initial access token (clients registered with it stay)',
      tag: 'registrations',
      access: 'write',
      params: RegistrationTokenParams,
      query: NoQuery,
      response: { status: 200, description: 'The revoked token', schema: RegistrationTokenSchema },
      handler: async (input) => ok(registrationTokenJson(await service.revokeRegistrationToken(input.params.id, actorOf(input)))),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/software-issuers',
      operationId: 'listSoftwareIssuers',
      summary: 'List trusted software statement issuers',
      tag: 'registrations',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The issuers', schema: SoftwareIssuerListSchema },
      handler: async () => ok({ items: (await service.listSoftwareIssuers()).map(softwareIssuerJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/software-issuers',
      operationId: 'createSoftwareIssuer',
      summary: 'Trust a software statement issuer (its JWKS, or a jwks_uri fetched now)',
      tag: 'registrations',
      access: 'write',
      query: NoQuery,
      body: CreateSoftwareIssuerSchema,
      response: { status: 201, description: 'The issuer', schema: SoftwareIssuerSchema },
      handler: async (input) => {
        const b = input.body;
        const issuer = await service.addSoftwareIssuer(
          {
            name: b.name,
            jwks: b.jwks === undefined ? undefined : JSON.stringify(b.jwks),
            jwksUri: b.jwks_uri,
            scopes: scopeList(b.scope),
            resources: b.resources,
            environments: b.environments,
            approval: b.approval,
          },
          actorOf(input),
        );
        return { status: 201, body: softwareIssuerJson(issuer) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/software-issuers/{name}',
      operationId: 'deleteSoftwareIssuer',
      summary: 'Stop trusting a software statement issuer (name URL-encoded; clients registered with its statements stay)',
      tag: 'registrations',
      access: 'write',
      params: SoftwareIssuerParams,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        await service.removeSoftwareIssuer(input.params.name, actorOf(input));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/clients/{client_id}/approve',
      operationId: 'approveClient',
      summary: 'Approve a client that registered itself and awaits approval',
      tag: 'registrations',
      access: 'write',
      params: ClientParams,
      query: NoQuery,
      response: { status: 200, description: 'The approved client', schema: ClientSchema },
      handler: async (input) => ok(clientJson(await service.approveClient(input.params.client_id, actorOf(input)))),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/clients/{client_id}/reject',
      operationId: 'rejectClient',
      summary: 'Reject a client that awaits approval: it is removed',
      tag: 'registrations',
      access: 'write',
      params: ClientParams,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        await service.rejectClient(input.params.client_id, actorOf(input));
        return { status: 204 };
      },
    }),
  ];
}
