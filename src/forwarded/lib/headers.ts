import { ForwardedCertificateError } from '../errors.js';

/** The request surface the extractors read: Node http/https `IncomingMessage` and http2 compat requests. */
export interface RequestLike {
  rawHeaders: string[];
  socket: { remoteAddress?: string | undefined } | null | undefined;
}

/**
 * All values of header `name` from `rawHeaders`. Names compare case-insensitively as HTTP requires, but
 * exactly otherwise: `X_SSL_Client_Cert` is a different header from `X-SSL-Client-Cert` (rule 2.0.8).
 */
export function headerValues(req: RequestLike, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === wanted) values.push(raw[i + 1]!);
  }
  return values;
}

/** The one value of a singleton header, undefined when absent; a repeated header is refused. */
export function singleHeader(req: RequestLike, name: string): string | undefined {
  const values = headerValues(req, name);
  if (values.length > 1) {
    throw new ForwardedCertificateError('ERR_FORWARDED_DUPLICATE', `${name} occurs ${values.length} times; it must occur once`);
  }
  return values[0];
}
