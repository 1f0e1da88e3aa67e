import type { IncomingHttpHeaders } from 'node:http';

/** The parts of a Node request the verifier reads (http, https and http2 compat requests fit). */
export interface VerifiableRequest {
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  url?: string | undefined;
  socket: unknown;
  /** A body parsed by a framework (express `req.body`); only looked at for a second `access_token`. */
  body?: unknown;
}

export type BearerExtraction = { kind: 'token'; token: string } | { kind: 'missing' } | { kind: 'invalid'; reason: string; description: string };

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function authorizationValues(req: VerifiableRequest): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    // The length first: most header names are not 13 characters long and are never lower-cased.
    if (name.length === 13 && name.toLowerCase() === 'authorization') values.push(req.rawHeaders[i + 1]!);
  }
  return values;
}

function hasOtherToken(req: VerifiableRequest, body: unknown): boolean {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  if (query !== -1 && new URLSearchParams(url.slice(query + 1)).has('access_token')) return true;
  return !!body && typeof body === 'object' && 'access_token' in body;
}

/**
 * Finds the one bearer token of a request (RFC 6750 §2.1): the Authorization header, exactly once,
 * `Bearer` (any case) + one b64token. A token in the query or a parsed body as well (or instead) is
 * `invalid_request`: only the header is supported and two tokens are never guessed between.
 *
 * `known(token)` lets the caller skip the b64token scan (a regular expression over the whole token)
 * for a token it already accepted before, such as one in its verified-token cache: the same string
 * passed this check then. Everything else is checked on every request.
 */
export function extractBearer(req: VerifiableRequest, maxLength: number, body: unknown = req.body, known?: (token: string) => boolean): BearerExtraction {
  const values = authorizationValues(req);
  const other = hasOtherToken(req, body);
  if (values.length === 0) {
    return other
      ? { kind: 'invalid', reason: 'access_token outside the Authorization header', description: 'send the access token in the Authorization header' }
      : { kind: 'missing' };
  }
  if (values.length > 1) return { kind: 'invalid', reason: 'Authorization header repeated', description: 'more than one Authorization header' };
  const value = values[0]!;
  if (value.length > maxLength) return { kind: 'invalid', reason: `Authorization header longer than ${maxLength}`, description: 'Authorization header too large' };
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') return other ? { kind: 'invalid', reason: 'two tokens', description: 'more than one access token' } : { kind: 'missing' };
  let token = '';
  if (space !== -1) {
    let start = space + 1;
    while (value.charCodeAt(start) === 0x20) start++;
    token = value.slice(start);
  }
  if (!known?.(token) && !B64TOKEN.test(token)) return { kind: 'invalid', reason: 'malformed Bearer credentials', description: 'malformed Authorization header' };
  if (other) return { kind: 'invalid', reason: 'two tokens', description: 'more than one access token' };
  return { kind: 'token', token };
}
