import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { Agent, request } from 'undici';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TlsClientOptions {
  /** PEM the client trusts for the server. */
  ca: string;
  /** Client certificate chain (PEM) and key; omitted: no client certificate. */
  cert?: string;
  key?: string;
}

/** An undici agent presenting a client certificate over real TLS. */
export function tlsAgent(options: TlsClientOptions): Agent {
  return new Agent({ connect: { ca: options.ca, cert: options.cert, key: options.key, servername: 'localhost' } });
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

export async function httpsJson(url: string, options: { agent: Agent; method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> }): Promise<JsonResponse> {
  let body: string | undefined;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.form)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    body = params.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await request(url, { method: (options.method ?? (body ? 'POST' : 'GET')) as 'GET', body, headers, dispatcher: options.agent });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {}
  return { status: res.statusCode, headers: res.headers, body: json, text };
}

/** A raw node https GET with full control of headers (e.g. a forged Host) and the TLS servername. */
export function rawHttpsGet(url: string, options: { ca: string; headers?: Record<string, string>; cert?: string; key?: string }): Promise<{ status: number; text: string; headers: import('node:http').IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpsRequest(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, servername: 'localhost', ca: options.ca, cert: options.cert, key: options.key, headers: options.headers, agent: false },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
