/**
 * The key sets clients publish at a `jwks_uri`: the certificates of self_signed_tls_client_auth clients
 * (RFC 8705 §2.2.2, SS-1/SS-4) and the assertion keys of private_key_jwt clients (RFC 7591 `jwks_uri`).
 * They are fetched by certbound (oidc-provider only ever sees the resulting `jwks`), checked like a
 * registered JWKS of that kind (`validate`), and kept per client:
 * - fetched on the client's first request, and again once older than `maxAgeMs`;
 * - fetched again at once when the client presents a certificate (x5t#S256) or signs with a key id the
 *   set does not hold (a newly published certificate or key works without a restart), at most once per
 *   `minRefreshMs` per client, so a stream of unknown ones cannot turn the server into a load generator
 *   against the client's host;
 * - a failed fetch keeps the last good set (and its error is reported with the refusal).
 */
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import type { Jwks } from './self-signed.js';
import { InvalidInputError } from '../errors/index.js';
import { x5tS256 } from '../pki/thumbprint.js';

export interface JwksUriCacheOptions {
  /** Extra CA certificates (PEM) trusted for the fetch, besides Node's bundled ones. */
  ca?: string | undefined;
  /** A miss refetches at most once per this many ms per client. */
  minRefreshMs: number;
  /** A set older than this is fetched again on the next request. Default 300 000 (5 min). */
  maxAgeMs?: number;
  /** Per fetch. Default 5 000. */
  timeoutMs?: number;
  /** Largest accepted JWKS document. Default 256 KiB. */
  maxBytes?: number;
  /** Checks a fetched document (JSON text) of a client of that kind and returns the JWKS; throws a CertboundError when it is not acceptable. */
  validate(text: string, kind: PublishedKind): Jwks | Promise<Jwks>;
  now?: () => number;
}

/** What a client publishes: certificates (self_signed_tls_client_auth) or assertion keys (private_key_jwt). */
export type PublishedKind = 'certificates' | 'keys';

export interface JwksUriState {
  uri: string;
  /** The last good set; undefined until a fetch succeeded. */
  jwks: Jwks | undefined;
  /** x5t#S256 of each key's x5c[0]. */
  thumbprints: ReadonlySet<string>;
  /** The `kid` of each key. */
  kids: ReadonlySet<string>;
  /** When `jwks` was fetched (ms), 0 if never. */
  fetchedAt: number;
  /** The last fetch's error, cleared by a successful fetch. */
  error: string | undefined;
}

interface Entry extends JwksUriState {
  kind: PublishedKind;
  attemptedAt: number;
  inflight: Promise<void> | undefined;
}

function thumbprintsOf(jwks: Jwks): Set<string> {
  const out = new Set<string>();
  for (const key of jwks.keys) {
    const first = Array.isArray(key.x5c) ? key.x5c[0] : undefined;
    if (typeof first === 'string') out.add(x5tS256(Buffer.from(first, 'base64')));
  }
  return out;
}

export function createJwksUriCache(options: JwksUriCacheOptions) {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const entries = new Map<string, Entry>();
  const dispatcher = new Agent({
    connect: { ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  async function download(uri: string): Promise<string> {
    const res = await request(uri, { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' }, dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new Error(`the document is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Fetches into `entry` (one fetch in flight per client); a failure keeps the last good set and records the error. */
  function fetchInto(entry: Entry): Promise<void> {
    entry.inflight ??= (async () => {
      entry.attemptedAt = now();
      try {
        const jwks = await options.validate(await download(entry.uri), entry.kind);
        entry.jwks = jwks;
        entry.thumbprints = thumbprintsOf(jwks);
        entry.kids = new Set(jwks.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));
        entry.fetchedAt = now();
        entry.error = undefined;
      } catch (err) {
        entry.error = (err as Error).message;
      } finally {
        entry.inflight = undefined;
      }
    })();
    return entry.inflight;
  }

  function entryFor(clientId: string, uri: string, kind: PublishedKind): Entry {
    let entry = entries.get(clientId);
    if (!entry || entry.uri !== uri || entry.kind !== kind) {
      entry = { uri, kind, jwks: undefined, thumbprints: new Set(), kids: new Set(), fetchedAt: 0, attemptedAt: 0, error: undefined, inflight: undefined };
      entries.set(clientId, entry);
    }
    return entry;
  }

  return {
    /** The client's current set, without fetching. */
    peek(clientId: string, uri: string, kind: PublishedKind = 'certificates'): JwksUriState {
      const entry = entries.get(clientId);
      return entry && entry.uri === uri && entry.kind === kind ? entry : { uri, jwks: undefined, thumbprints: new Set(), kids: new Set(), fetchedAt: 0, error: undefined };
    },

    /**
     * Makes the set current for a request that needs `need` (certificates: the x5t#S256 the client
     * presents; keys: the kid of its assertion; undefined: nothing in particular): fetches when there is
     * no set yet or it is older than maxAgeMs, or when `need` is not in it and the last attempt is at
     * least minRefreshMs old. Every successful fetch gives a new `jwks` object (see peek).
     */
    async ensure(clientId: string, uri: string, need: string | undefined, kind: PublishedKind = 'certificates'): Promise<void> {
      const entry = entryFor(clientId, uri, kind);
      const t = now();
      const due = entry.fetchedAt === 0 || t - entry.fetchedAt >= maxAgeMs;
      const miss = need !== undefined && !(kind === 'keys' ? entry.kids : entry.thumbprints).has(need);
      if ((due || miss) && (entry.inflight || entry.attemptedAt === 0 || t - entry.attemptedAt >= options.minRefreshMs)) await fetchInto(entry);
    },

    /** When this server last fetched (successfully) and last tried to fetch the client's set, ms; undefined: never. */
    status(clientId: string): { uri: string; fetchedAt: number; attemptedAt: number } | undefined {
      const entry = entries.get(clientId);
      return entry && entry.attemptedAt > 0 ? { uri: entry.uri, fetchedAt: entry.fetchedAt, attemptedAt: entry.attemptedAt } : undefined;
    },

    close: () => dispatcher.close(),
  };
}

export type JwksUriCache = ReturnType<typeof createJwksUriCache>;

/**
 * One fetch of a client's jwks_uri, for registration: the validated JWKS, or a CertboundError saying
 * why the URI cannot be used (unreachable, not 200, too large, not a valid self-signed JWKS).
 */
export async function fetchJwksUriOnce(uri: string, options: Omit<JwksUriCacheOptions, 'minRefreshMs' | 'validate'> & { validate(text: string): Jwks | Promise<Jwks>; kind?: PublishedKind }): Promise<Jwks> {
  const { kind = 'certificates', validate, ...rest } = options;
  const cache = createJwksUriCache({ ...rest, minRefreshMs: 0, validate: (text) => validate(text) });
  try {
    await cache.ensure('registration', uri, undefined, kind);
    const state = cache.peek('registration', uri, kind);
    if (!state.jwks) {
      throw new InvalidInputError('ERR_JWKS_URI_UNAVAILABLE', `The jwks_uri ${uri} cannot be used: ${state.error ?? 'no JWKS'}.`, {
        hint:
          kind === 'keys'
            ? "Publish the client's public assertion keys there first (a JWKS without x5c or private members), and check that this host trusts the server certificate (CERTBOUND_OUTBOUND_CA_FILE)."
            : 'Publish the client certificates there first (a JWKS whose keys carry x5c), and check that this host trusts the server certificate (CERTBOUND_OUTBOUND_CA_FILE).',
      });
    }
    return state.jwks;
  } finally {
    await cache.close();
  }
}
