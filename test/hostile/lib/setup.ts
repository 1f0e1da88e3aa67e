/**
 * Setup shared by the hostile surfaces: the certificate table's clients, token-endpoint outcomes, and a
 * request presenting any certificate over real TLS.
 */
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { httpsJson, type JsonResponse, tlsAgent } from '../../helpers/net.js';
import type { TestServer } from '../../helpers/server.js';
import { API, CERT_CLIENTS, SELF_SIGNED_CLIENT } from '../cases/certificates.js';
import { brief, type Outcome } from './corpus.js';
import { type CertKit, chainPem, type Presented } from './certs.js';

/** Registers the certificate table's resource server and clients on `s`. */
export async function registerCertClients(s: TestServer, k: CertKit): Promise<void> {
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  for (const c of CERT_CLIENTS) {
    await s.admin.addClient({ clientId: c.clientId, mapping: { ...c.mapping } as never, scopes: ['read'], defaultResource: API }, 'test');
  }
  await s.admin.addClient({ clientId: SELF_SIGNED_CLIENT, selfSignedCertPem: k.registeredSelfSigned.pem, scopes: ['read'], defaultResource: API }, 'test');
}

/**
 * A token response as an outcome: accepted means a token came back. An issued token must be bound to the
 * certificate the client proved (BT-7/BT-8); a refusal must be a coded OAuth error with a description.
 */
export function tokenOutcome(res: JsonResponse, boundTo?: Buffer, options: { httpRefusal?: boolean } = {}): Outcome {
  const token = res.body.access_token;
  const accepted = res.status === 200 && typeof token === 'string';
  if (accepted && boundTo)
    expect((decodeJwt(token as string).cnf as Record<string, unknown> | undefined)?.['x5t#S256'], 'the token is bound to the presented certificate').toBe(x5tS256(boundTo));
  if (!accepted && res.status < 500) {
    expect(token, 'no token in a refusal').toBeUndefined();
    // The HTTP layer refuses oversized requests (413/431), and a method the endpoint does not serve (404/405),
    // before any OAuth code runs; everything else is an OAuth error.
    const httpLayer = [413, 431, ...(options.httpRefusal ? [404, 405] : [])];
    if (!httpLayer.includes(res.status)) expect(typeof res.body.error, `a refusal carries an OAuth error: status ${res.status} ${brief(res.body, res.text)}`).toBe('string');
  }
  return { status: res.status, accepted, detail: brief(res.body, res.text) };
}

/**
 * POST `url` (form) over a fresh TLS connection presenting `p` (or no certificate). A connection the
 * server ends during the handshake (OpenSSL refusing a certificate it cannot use) comes back as status 0:
 * a refusal at the TLS layer, with nothing issued.
 */
export async function postPresenting(
  s: TestServer,
  url: string,
  p: Presented | undefined,
  form: Record<string, string | string[]>,
  headers?: Record<string, string>,
): Promise<JsonResponse> {
  const agent = tlsAgent({ ca: s.pki.root.pem, ...(p ? { cert: chainPem(p), key: p.keyPem } : {}) });
  try {
    return await httpsJson(url, { agent, form, ...(headers ? { headers } : {}) });
  } catch (err) {
    return closedConnection(err);
  } finally {
    await agent.close();
  }
}

/** The outcome of a request whose connection the server closed before answering (TLS alert or reset). */
export function closedConnection(err: unknown): JsonResponse {
  const code = (err as { code?: string }).code ?? '';
  if (!/^(UND_ERR_SOCKET|ECONNRESET|EPIPE|ERR_SSL_|UND_ERR_CLOSED)/.test(code) && !/other side closed|socket hang up|alert/i.test(String((err as Error).message))) throw err;
  return { status: 0, headers: {}, body: { error: 'connection_closed' }, text: `connection closed by the server: ${(err as Error).message}` };
}
