/**
 * The RFC 9440 Appendix A client certificate and its eight proxy encodings.
 *
 * Copied from the RFC text (last line `…BVoU4hBVZ1yhk=`, as in RFC 9440 and RFC 9421 Appendix B.3). A copy
 * circulated in the project brief ended `…BVoAHmcBfKvLE=` (12 corrupted signature characters); that
 * variant hashes to `ZEhY4ZKMfDh7lAxNn_dONTGdem3TqlZYHp4OuBzlKb0`, not the checklist's vector.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';

export const RFC9440_PEM = `-----BEGIN CERTIFICATE-----
MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBB
dXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAx
MTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p
5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIw
ADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMC
BsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1w
bGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMje
SkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=
-----END CERTIFICATE-----
`;
export const RFC9440_DER = Buffer.from(new X509Certificate(RFC9440_PEM).raw);
export const RFC9440_B64 = RFC9440_DER.toString('base64');
export const RFC9440_X5T = 'v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes';
export const RFC9440_HEX = createHash('sha256').update(RFC9440_DER).digest('hex');

/** PEM of any DER certificate, 64-character lines. */
export function toPem(der: Buffer): string {
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** nginx `ngx_escape_uri` component-style escaping (as `encodeURIComponent`: `+/=` escaped). */
export const nginxEscape = (pem: string): string => encodeURIComponent(pem);
/** AWS ALB style: `%20` and `%0A`, but `+`, `=` and `/` left literal. */
export const albEscape = (pem: string): string => pem.replace(/ /g, '%20').replace(/\n/g, '%0A');
/** Go `url.QueryEscape` of base64 (older Traefik). */
export const queryEscape = (value: string): string => encodeURIComponent(value);

export interface Probe {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** A real HTTP server on `host`; the handler decides the answer. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1'): Promise<Probe> {
  const server = createServer({ maxHeaderSize: 256 * 1024 }, handler);
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    server,
    port: address.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Sends a hand-written HTTP/1.1 request (exact header names, duplicates, underscores) from
 * `localAddress` and returns the status and body.
 */
export async function rawRequest(
  port: number,
  headers: Array<[string, string]>,
  options: { host?: string; localAddress?: string; path?: string } = {},
): Promise<{ status: number; body: string; headers: string }> {
  const socket = connect({ port, host: options.host ?? '127.0.0.1', localAddress: options.localAddress });
  await once(socket, 'connect');
  const lines = [`GET ${options.path ?? '/'} HTTP/1.1`, 'Host: test', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${lines.join('\r\n')}\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split);
  let body = text.slice(split + 4);
  if (/^transfer-encoding: chunked$/im.test(head)) {
    let decoded = '';
    for (let at = 0; ; ) {
      const eol = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.slice(at, eol), 16);
      if (!size) break;
      decoded += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    body = decoded;
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, body, headers: head };
}
