/**
 * The diagnosis engine (src/diagnose) fed from the store: trust anchors, verified CRLs, the named client
 * and every client whose mappings hold one of the certificate's values. Used by `certbound doctor`, the
 * token endpoint's refusal log line and `POST /admin/diagnose`, so all three say the same thing.
 */
import {
  type Diagnosis,
  type DiagnosisAnchor,
  type DiagnosisClient,
  candidateMappingKeys,
  diagnoseCertificate,
  type NearbyMapping,
  nearMissMappingKeys,
} from '../diagnose/index.js';
import { type CrlStalePolicy, parseCertificate, type VerifiedCrl } from '../pki/index.js';
import { type ClientRecord, clients, type Queryable, trustAnchors } from '../store/index.js';
import { loadVerifiedCrls } from '../revocation/index.js';
import type { Jwks } from '../jwks/self-signed.js';

/** At most this many candidate clients are compared (a value mapped to more clients is reported as is). */
const MAX_CANDIDATES = 50;
/** At most this many of the certificate's values are looked up (a refusal must stay cheap; X-10 allows 100 SANs). */
const MAX_LOOKUP_KEYS = 16;
/**
 * Without a client id, at most this many clients that publish their certificates at a jwks_uri (SS-4)
 * are searched for the certificate (`certbound doctor` fetches each set once, in parallel).
 */
export const MAX_PUBLISHED_SEARCH = 20;
/**
 * Near misses (without a client id): of this many of the certificate's values, the mappings just before
 * and after each in the (kind, canonical) index, this many per side, plus the exact keys of the known
 * mistakes (reversed DN, CN as a SAN). Index range reads only: at most 2 × 8 + 9 queries of a few rows,
 * whatever the number of clients.
 */
const NEAR_MISS_KEYS = 8;
const NEAR_MISS_PER_SIDE = 3;

export interface StoreDiagnoseInput {
  /** The client certificate, DER or PEM. */
  leaf: Uint8Array | string;
  /** The certificates sent after it (DER, or PEM text with one or more blocks). */
  chain?: readonly (Uint8Array | string)[] | undefined;
  clientId?: string | undefined;
  /** Default: now. */
  now?: Date | undefined;
  /** What happens with a stale CRL (CERTBOUND_CRL_STALE); default fail-closed. */
  crlStale?: CrlStalePolicy | undefined;
  /** Already in memory (the server): used instead of reading them. */
  anchors?: readonly DiagnosisAnchor[] | undefined;
  crls?: readonly VerifiedCrl[] | undefined;
  /**
   * SS-4: the certificates a client publishes at its jwks_uri (the server's fetched copy; `doctor`
   * fetches once). Without it such a client is diagnosed without its certificates.
   */
  publishedKeys?: ((clientId: string, uri: string) => Promise<Jwks | undefined> | Jwks | undefined) | undefined;
  /** Without a client id, look up the nearest registered clients (default true; the refusal log line, which must stay cheap, does not). */
  nearMisses?: boolean | undefined;
}

/** Mappings near the certificate's values, for the near misses; see NEAR_MISS_KEYS. */
export async function findNearbyMappings(db: Queryable, leaf: Uint8Array | string): Promise<NearbyMapping[]> {
  const cert = parseCertificate(leaf);
  const found: NearbyMapping[] = [];
  for (const key of nearMissMappingKeys(cert)) found.push(...(await clients.findMappingsByCanonical(db, key.kind, key.canonical, NEAR_MISS_PER_SIDE)));
  for (const key of candidateMappingKeys(cert).slice(0, NEAR_MISS_KEYS)) found.push(...(await clients.mappingsAround(db, key.kind, key.canonical, NEAR_MISS_PER_SIDE)));
  return found;
}

/** The clients the certificate could authenticate as, plus the named one, from the store. */
export async function findCandidateClients(db: Queryable, leaf: Uint8Array | string, clientId?: string): Promise<ClientRecord[]> {
  const cert = parseCertificate(leaf);
  const ids = new Set<string>();
  if (clientId) ids.add(clientId);
  for (const key of candidateMappingKeys(cert).slice(0, MAX_LOOKUP_KEYS)) {
    for (const m of await clients.findMappingsByCanonical(db, key.kind, key.canonical)) ids.add(m.clientId);
    if (ids.size >= MAX_CANDIDATES) break;
  }
  for (const id of await clients.idsRegisteringCertificate(db, cert.der.toString('base64'), MAX_CANDIDATES)) ids.add(id);
  const found: ClientRecord[] = [];
  for (const id of [...ids].slice(0, MAX_CANDIDATES)) {
    const c = await clients.find(db, id);
    if (c) found.push(c);
  }
  return found;
}

/**
 * Diagnoses a certificate against what the store holds now.
 *
 * @example
 * const d = await diagnoseFromStore(db, { leaf: readFileSync('client.pem', 'utf8'), clientId: 'billing' });
 * d.would_authenticate; d.code; // e.g. false, 'SAN_MISMATCH'
 */
export async function diagnoseFromStore(db: Queryable, input: StoreDiagnoseInput): Promise<Diagnosis> {
  const anchors = input.anchors ?? (await trustAnchors.list(db));
  const crls = input.crls ?? (await loadVerifiedCrls(db)).crls;
  const candidates: DiagnosisClient[] = await findCandidateClients(db, input.leaf, input.clientId);
  for (const [i, c] of candidates.entries()) {
    // Only certificates matter here: a private_key_jwt client's published keys do not decide on the certificate.
    if (c.jwksUri && !c.jwks && c.authMethod === 'self_signed_tls_client_auth' && input.publishedKeys) {
      const jwks = await Promise.resolve(input.publishedKeys(c.clientId, c.jwksUri)).catch(() => undefined);
      candidates[i] = { ...c, jwks: jwks ?? null };
    }
  }
  // SS-4 without a client id: the registered certificates of a publishing client are wherever its
  // jwks_uri points, so the store cannot be searched for them; the published sets are.
  const search =
    input.clientId === undefined && input.publishedKeys ? await searchPublishedSets(db, input.leaf, input.publishedKeys, new Set(candidates.map((c) => c.clientId))) : undefined;
  if (search) candidates.push(...search.found);
  const nearby = input.clientId === undefined && input.nearMisses !== false ? await findNearbyMappings(db, input.leaf) : undefined;
  const diagnosis = diagnoseCertificate({
    leaf: input.leaf,
    chain: input.chain ?? [],
    anchors,
    clients: candidates,
    nearby,
    clientId: input.clientId,
    now: input.now ?? new Date(),
    revocation: { crls, stalePolicy: input.crlStale ?? 'fail-closed' },
  });
  if ((diagnosis.code === 'NO_MATCHING_CLIENT' || diagnosis.code === 'SELF_SIGNED_NOT_REGISTERED') && search && (search.unreadable.length || search.unchecked)) {
    const parts = [
      ...(search.unreadable.length
        ? [`no published set was available for ${search.unreadable.join(', ')} (a jwks_uri that failed or was refused, or that the server has not fetched yet)`]
        : []),
      ...(search.unchecked
        ? [
            `${search.unchecked} more client${search.unchecked === 1 ? '' : 's'} publishing at a jwks_uri ${search.unchecked === 1 ? 'was' : 'were'} not searched (at most ${MAX_PUBLISHED_SEARCH} are)`,
          ]
        : []),
    ];
    return {
      ...diagnosis,
      message: `${diagnosis.message} Not searched: ${parts.join('; ')}.`,
      hint: `If the certificate belongs to such a client, name it: certbound doctor --cert FILE --client-id ID. ${diagnosis.hint ?? ''}`.trim(),
    };
  }
  return diagnosis;
}

/** The publishing clients whose set holds this certificate (as an x5c), up to MAX_PUBLISHED_SEARCH of them. */
async function searchPublishedSets(
  db: Queryable,
  leaf: Uint8Array | string,
  publishedKeys: NonNullable<StoreDiagnoseInput['publishedKeys']>,
  already: ReadonlySet<string>,
): Promise<{ found: DiagnosisClient[]; unreadable: string[]; unchecked: number }> {
  const { total, first: rows } = await clients.publishingSelfSigned(db, MAX_PUBLISHED_SEARCH);
  if (total === 0) return { found: [], unreadable: [], unchecked: 0 };
  const der = parseCertificate(leaf).der.toString('base64');
  const found: DiagnosisClient[] = [];
  const unreadable: string[] = [];
  await Promise.all(
    rows
      .filter((r) => !already.has(r.clientId))
      .map(async (r) => {
        let jwks: Jwks | undefined;
        try {
          jwks = await publishedKeys(r.clientId, r.jwksUri);
        } catch (err) {
          // the fetch error, when the caller fetched (certbound doctor)
          unreadable.push(`${r.clientId} (${(err as Error).message.replace(/\.+$/, '')})`);
          return;
        }
        if (!jwks) {
          unreadable.push(r.clientId);
          return;
        }
        if (!jwks.keys.some((k) => Array.isArray(k.x5c) && k.x5c[0] === der)) return;
        const client = await clients.find(db, r.clientId);
        if (client) found.push({ ...client, jwks });
      }),
  );
  return { found: found.sort((a, b) => a.clientId.localeCompare(b.clientId)), unreadable: unreadable.sort(), unchecked: Math.max(0, total - rows.length) };
}
