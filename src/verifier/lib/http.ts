import type { RequestInit, Response } from 'undici';

/** TLS material for outgoing requests to the authorization server. */
export interface TlsOptions {
  /** Trust anchors for the authorization server's certificate (PEM); default: Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (PEM) for mTLS, e.g. at the introspection endpoint alias. */
  cert?: string | Buffer;
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer;
}

export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * An undici `fetch` bound to one connection pool with the given TLS material; no redirects followed.
 * undici is loaded on the first request: a verifier given a key set never fetches, and the module
 * costs ~10 MB of memory.
 */
export function createFetcher(tls: TlsOptions | undefined, timeoutMs: number): { fetch: Fetcher; close(): Promise<void> } {
  let pool: Promise<{ undici: typeof import('undici'); dispatcher: import('undici').Agent }> | undefined;
  const load = () =>
    (pool ??= import('undici').then((undici) => ({
      undici,
      dispatcher: new undici.Agent({
        connect: { ...(tls?.ca ? { ca: tls.ca } : {}), ...(tls?.cert ? { cert: tls.cert } : {}), ...(tls?.key ? { key: tls.key } : {}) },
      }),
    })));
  return {
    async fetch(url, init = {}) {
      const { undici, dispatcher } = await load();
      return undici.fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), ...init, dispatcher });
    },
    async close() {
      if (pool) await (await pool).dispatcher.close();
    },
  };
}

/** Reads a JSON object body, bounded in size; anything else throws. */
export async function readJsonObject(response: Response, maxBytes = 1024 * 1024): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (text.length > maxBytes) throw new Error('response body too large');
  const parsed: unknown = JSON.parse(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('response body is not a JSON object');
  return parsed as Record<string, unknown>;
}
