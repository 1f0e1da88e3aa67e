/**
 * Reading a registration request: its bearer token and its JSON body, bounded in size, and the answers
 * in RFC 7591's shape (`Cache-Control: no-store`, JSON errors).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CertboundError } from '../../errors/index.js';

/** Largest registration body: a JWKS with a few certificate chains fits many times over. */
export const MAX_REGISTRATION_BODY_BYTES = 64 * 1024;

function bodyRefused(message: string, status = 400): CertboundError {
  return new CertboundError('ERR_REGISTRATION_BODY', message, { status });
}

/** The `Authorization: Bearer` token of a request, if it has one. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim()) : null;
  return match?.[1];
}

/** The JSON object of the body; refused beyond MAX_REGISTRATION_BODY_BYTES (read no further) or when it is not one. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== 'application/json') throw bodyRefused('The metadata is sent as JSON (Content-Type: application/json).');
  if (Number(req.headers['content-length'] ?? 0) > MAX_REGISTRATION_BODY_BYTES) throw bodyRefused(`The body is larger than ${MAX_REGISTRATION_BODY_BYTES} bytes.`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REGISTRATION_BODY_BYTES) {
      req.destroy();
      throw bodyRefused(`The body is larger than ${MAX_REGISTRATION_BODY_BYTES} bytes.`, 413);
    }
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw bodyRefused('The body is not JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bodyRefused('The body is not a JSON object.');
  return parsed as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers })
    .end(body === undefined ? undefined : JSON.stringify(body));
}
