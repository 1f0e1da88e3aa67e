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
 *
 * Every connection goes through the guarded agent (guarded-agent.ts) to addresses the outbound policy
 * allows only (address-policy.ts: no loopback, private, link-local … unless
 * CERTBOUND_JWKS_URI_ALLOWED_RANGES allows the range), checked after the one name resolution the socket
 * then uses. Redirects are not followed. Callers get a short reason (`error`); what went wrong underneath
 * (socket and TLS errors, the stack) goes to `onFailure`, the server log, only: a caller who may register
 * a jwks_uri must not learn from the answer which ports inside answer TLS.
 */
import { request } from 'undici';
import { CertboundError, InvalidInputError } from '../errors/index.js';
import type { Jwks } from '../jwks/self-signed.js';
import { x5tS256 } from '../pki/thumbprint.js';
import { createOutboundAddressPolicy, RefusedAddressError, type Resolver, refuseLiteral } from './address-policy.js';
import { createGuardedAgent } from './guarded-agent.js';

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
  /** Address ranges fetched from although not public (CERTBOUND_JWKS_URI_ALLOWED_RANGES, validated by config/). Default: none. */
  allowedRanges?: readonly string[] | undefined;
  /** Name resolution, for tests of the address check. Default: the system resolver. */
  resolve?: Resolver | undefined;
  /** Told every failed fetch with its full error (for the server log; the reason callers see is `error`). */
  onFailure?: ((failure: { uri: string; reason: string; error: unknown }) => void) | undefined;
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
  const dispatcher = createGuardedAgent({ policy: createOutboundAddressPolicy(options.allowedRanges), ca: options.ca, timeoutMs, resolve: options.resolve });

  async function download(uri: string): Promise<string> {
    const res = await request(uri, { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' }, dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FetchRefusal(`HTTP ${res.statusCode}${res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed: register the final URL)' : ''}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new FetchRefusal(`the document is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    // The parser's own message quotes the document: not for callers.
    try {
      JSON.parse(text);
    } catch {
      throw new FetchRefusal('the document is not JSON (a JWKS is expected)');
    }
    return text;
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
        entry.error = reasonOf(err, entry.uri);
        options.onFailure?.({ uri: entry.uri, reason: entry.error, error: err });
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

/** A failed fetch whose message is fit for the caller as it is (an HTTP status, a size, not JSON). */
class FetchRefusal extends Error {}

/**
 * The short reason a fetch failed, for the caller: the refused address, the HTTP status, the size, the
 * JWKS rule the document breaks, or that the name did not resolve; any other failure (connection,
 * timeout, TLS) is one sentence without the underlying error.
 */
function reasonOf(err: unknown, uri: string): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof RefusedAddressError || e instanceof FetchRefusal || e instanceof CertboundError) return e.message;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return `the host name ${new URL(uri).hostname} could not be resolved`;
  }
  const host = new URL(uri).host;
  return `no JWKS could be fetched from ${host}: the connection failed, timed out, or the TLS handshake failed (the server log has the detail); check that the host is reachable from certbound and that its certificate is trusted (CERTBOUND_OUTBOUND_CA_FILE)`;
}

/**
 * One fetch of a client's jwks_uri, for registration: the validated JWKS, or a CertboundError saying
 * why the URI cannot be used (unreachable, not 200, too large, not a valid self-signed JWKS).
 */
export async function fetchJwksUriOnce(
  uri: string,
  options: Omit<JwksUriCacheOptions, 'minRefreshMs' | 'validate'> & { validate(text: string): Jwks | Promise<Jwks>; kind?: PublishedKind },
): Promise<Jwks> {
  // An address host is refused without building a connection pool.
  const literal = refuseLiteral(createOutboundAddressPolicy(options.allowedRanges), new URL(uri).hostname.replace(/^\[(.*)\]$/, '$1'));
  if (literal) throw unavailable(uri, literal.message, options.kind ?? 'certificates');
  const { kind = 'certificates', validate, ...rest } = options;
  const cache = createJwksUriCache({ ...rest, minRefreshMs: 0, validate: (text) => validate(text) });
  try {
    await cache.ensure('registration', uri, undefined, kind);
    const state = cache.peek('registration', uri, kind);
    if (!state.jwks) throw unavailable(uri, state.error ?? 'no JWKS', kind);
    return state.jwks;
  } finally {
    await cache.close();
  }
}

function unavailable(uri: string, reason: string, kind: PublishedKind): InvalidInputError {
  return new InvalidInputError('ERR_JWKS_URI_UNAVAILABLE', `The jwks_uri ${uri} cannot be used: ${reason}.`, {
    hint:
      kind === 'keys'
        ? "Publish the client's public assertion keys there first (a JWKS without x5c or private members), at a public address, and check that this host trusts the server certificate (CERTBOUND_OUTBOUND_CA_FILE)."
        : 'Publish the client certificates there first (a JWKS whose keys carry x5c), at a public address, and check that this host trusts the server certificate (CERTBOUND_OUTBOUND_CA_FILE).',
  });
}
