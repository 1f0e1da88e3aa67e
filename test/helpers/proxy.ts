/**
 * Requests as a reverse proxy (or a client pretending to be one) makes them: from a chosen loopback
 * source address (127.0.0.2 is the trusted proxy in these tests, 127.0.0.1 is not), with raw, possibly
 * repeated, headers.
 */
import { request as httpsRequest } from 'node:https';
import type { JsonResponse } from './net.js';

export interface RawRequestOptions {
  url: string;
  /** PEM trusted for the server certificate. */
  ca: string;
  /** Source address of the TCP connection (the peer address the server sees). */
  localAddress?: string;
  method?: string;
  /** Header pairs in order; a name may repeat. */
  headers?: [string, string][];
  form?: Record<string, string>;
  /** Client certificate chain and key for the TLS handshake. */
  cert?: string;
  key?: string;
}

/** One HTTPS request on a fresh connection; resolves with status, headers and the parsed JSON body. */
export function rawHttpsRequest(options: RawRequestOptions): Promise<JsonResponse> {
  const u = new URL(options.url);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const flat: string[] = [];
  for (const [k, v] of options.headers ?? []) flat.push(k, v);
  if (body !== undefined) flat.push('content-type', 'application/x-www-form-urlencoded', 'content-length', String(Buffer.byteLength(body)));
  if (!flat.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')) flat.push('host', u.host);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        servername: 'localhost',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        localAddress: options.localAddress,
        headers: flat as unknown as Record<string, string>,
        agent: false,
        setHost: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = text ? JSON.parse(text) : {};
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** nginx `$ssl_client_escaped_cert`: the PEM, URL-encoded. */
export function nginxEscapedCert(pem: string): string {
  return encodeURIComponent(pem);
}
