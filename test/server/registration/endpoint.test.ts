/**
 * The registration endpoint's answers to failures that are not the registrant's: a database that cannot
 * serve the request is a 503 with Retry-After and a ref, as on every other endpoint
 * (docs/reliability.md); any other internal error a 500 server_error with a ref. The use cases run over
 * a real store whose PostgreSQL refuses connections; the endpoint is served over plain HTTP, since the
 * certificate plays no part in these answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistrationUseCases, registeredMetadata } from '../../../src/app/registrations.js';
import { createFailureLog } from '../../../src/server/failures.js';
import { createRegistrationEndpoint, type LoadedRegistration } from '../../../src/server/registration/endpoint.js';
import { type Db, openDatabase } from '../../../src/store/knex.js';
import { DatabaseUnavailableError } from '../../../src/store/unavailable.js';
import { freePort } from '../../helpers/net.js';

const RETRY_AFTER_S = 3;
let unreachable: Db;
const servers: Server[] = [];

/** The endpoint with `load`, served on a local port; its base URL. */
async function serve(load: () => Promise<LoadedRegistration>): Promise<string> {
  const logger = pino({ level: 'silent' });
  const endpoint = createRegistrationEndpoint({
    load,
    mtls: { peerCertificate: () => undefined, stillAuthenticates: () => undefined } as never,
    registrationUrl: 'https://mtls.example.com/register',
    logger,
    failures: createFailureLog(logger),
    retryAfterS: RETRY_AFTER_S,
  });
  const server = createServer((req, res) => endpoint.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function register(base: string): Promise<Response> {
  return fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer some-token' },
    body: JSON.stringify({ tls_client_auth_san_dns: 'a.example.com' }),
  });
}

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_S));
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.error).toBe('temporarily_unavailable');
  expect(String(body.error_description)).toMatch(new RegExp(`^the authorization server cannot reach its database; retry in ${RETRY_AFTER_S} s \\(ref [0-9a-f]{8}\\)$`));
}

beforeAll(async () => {
  unreachable = openDatabase({ client: 'pg', url: `postgres://certbound@127.0.0.1:${await freePort()}/certbound`, timeoutMs: 1000 });
});
afterAll(async () => {
  for (const server of servers) server.close();
  await unreachable?.destroy();
});

describe('registration endpoint: failures that are not the registrant’s', () => {
  it('a database that refuses connections during a registration → 503 temporarily_unavailable with Retry-After and a ref', async () => {
    const base = await serve(async () => ({ useCases: createRegistrationUseCases({ db: unreachable }), registeredMetadata }));
    await expectUnavailable(await register(base));
  });

  it('the use cases failing to load because the database is unavailable → the same 503; RFC 7592 management too', async () => {
    const base = await serve(() => Promise.reject(new DatabaseUnavailableError('the database did not answer within 1000 ms')));
    await expectUnavailable(await register(base));
    await expectUnavailable(await fetch(`${base}/register/dcr-1`, { headers: { authorization: 'Bearer x' } }));
  });

  it('any other internal error stays 500 server_error with a ref, without Retry-After', async () => {
    const base = await serve(() => Promise.reject(new TypeError('a bug')));
    const res = await register(base);
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe('server_error');
    expect(String(body.error_description)).toMatch(/\(ref [0-9a-f]{8}\)/);
  });
});
