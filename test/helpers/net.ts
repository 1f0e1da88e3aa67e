import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { Agent, request } from 'undici';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// Below the kernel's ephemeral range (32768+), so outgoing connections of parallel tests never take a
// port between this probe and the server's listen(); a random start spreads parallel workers apart.
const FIRST = 20_000;
const LAST = 32_000;
let next = FIRST + Math.floor(Math.random() * (LAST - FIRST));

/** A port that is free on 127.0.0.1 now and that no outgoing connection will take. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = next;
    next = next >= LAST ? FIRST : next + 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${FIRST} and ${LAST}`);
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

export async function httpsJson(
  url: string,
  options: { agent: Agent; method?: string; form?: Record<string, string | string[]>; body?: string; headers?: Record<string, string> },
): Promise<JsonResponse> {
  let body: string | undefined = options.body;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.form)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    body = params.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await request(url, { method: (options.method ?? (body !== undefined ? 'POST' : 'GET')) as 'GET', body, headers, dispatcher: options.agent });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {}
  return { status: res.statusCode, headers: res.headers, body: json, text };
}

/** A raw node https GET with full control of headers (e.g. a forged Host) and the TLS servername. */
export function rawHttpsGet(
  url: string,
  options: { ca: string; headers?: Record<string, string>; cert?: string; key?: string },
): Promise<{ status: number; text: string; headers: import('node:http').IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        servername: 'localhost',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        headers: options.headers,
        agent: false,
      },
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
