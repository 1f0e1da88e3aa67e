/**
 * Where a CRL is read from: a local file, or an http(s) URL that the administrator registered for a
 * trust anchor's CA. Read when the CRL is added and again by every server before its nextUpdate.
 */
import { readFile } from 'node:fs/promises';
import { CertboundError } from '../errors/index.js';
import { MAX_CRL_BYTES } from '../pki/index.js';

export interface CrlSource {
  kind: 'file' | 'url';
  /** Absolute file path, or an http(s) URL. */
  location: string;
}

export type FetchCrl = (source: CrlSource) => Promise<Buffer>;

const FETCH_TIMEOUT_MS = 10_000;

/** Reads a CRL from its source: a local file, or an http(s) URL (10 s timeout, 16 MiB cap). */
export const fetchCrlSource: FetchCrl = async (source) => {
  if (source.kind === 'file') {
    try {
      return await readFile(source.location);
    } catch (cause) {
      throw new CertboundError('ERR_CRL_FETCH', `Cannot read the CRL file ${source.location} (${(cause as NodeJS.ErrnoException).code ?? 'error'}).`, {
        status: 400,
        cause,
        hint: 'Check the path and its permissions on the server host.',
      });
    }
  }
  let res: Response;
  try {
    res = await fetch(source.location, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  } catch (cause) {
    throw new CertboundError('ERR_CRL_FETCH', `Cannot fetch the CRL from ${source.location}: ${(cause as Error).message}.`, {
      status: 400,
      cause,
      hint: 'Check the URL and that this host can reach it.',
    });
  }
  if (!res.ok || !res.body) {
    throw new CertboundError('ERR_CRL_FETCH', `Fetching the CRL from ${source.location} returned HTTP ${res.status}.`, {
      status: 400,
      hint: 'Check the URL (the CA publishes it in the CRL distribution point of its certificates).',
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_CRL_BYTES) {
      await res.body.cancel().catch(() => {});
      throw new CertboundError('ERR_CRL_TOO_LARGE', `The CRL at ${source.location} is larger than ${MAX_CRL_BYTES} bytes.`, { status: 400, hint: 'Check the URL.' });
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
};
