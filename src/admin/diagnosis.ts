/**
 * The diagnosis engine (src/diagnose) fed from the store: trust anchors, verified CRLs, the named client
 * and every client whose mappings hold one of the certificate's values. Used by `certbound doctor`, the
 * token endpoint's refusal log line and `POST /admin/diagnose`, so all three say the same thing.
 */
import { type Diagnosis, type DiagnosisAnchor, type DiagnosisClient, candidateMappingKeys, diagnoseCertificate } from '../diagnose/index.js';
import { type CrlStalePolicy, parseCertificate, type VerifiedCrl } from '../pki/index.js';
import { type ClientRecord, clients, type Db, trustAnchors } from '../store/index.js';
import { loadVerifiedCrls } from './crls.js';
import type { Jwks } from './self-signed.js';

/** At most this many candidate clients are compared (a value mapped to more clients is reported as is). */
const MAX_CANDIDATES = 50;
/** At most this many of the certificate's values are looked up (a refusal must stay cheap; X-10 allows 100 SANs). */
const MAX_LOOKUP_KEYS = 16;

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
}

/** The clients the certificate could authenticate as, plus the named one, from the store. */
export async function findCandidateClients(db: Db, leaf: Uint8Array | string, clientId?: string): Promise<ClientRecord[]> {
  const cert = parseCertificate(leaf);
  const ids = new Set<string>();
  if (clientId) ids.add(clientId);
  for (const key of candidateMappingKeys(cert).slice(0, MAX_LOOKUP_KEYS)) {
    for (const m of await clients.findMappingsByCanonical(db, key.kind, key.canonical)) ids.add(m.clientId);
    if (ids.size >= MAX_CANDIDATES) break;
  }
  const selfSigned = (await db('clients')
    .where('token_endpoint_auth_method', 'self_signed_tls_client_auth')
    .andWhere('jwks', 'like', `%${cert.der.toString('base64')}%`)
    .limit(MAX_CANDIDATES)
    .select('client_id')) as { client_id: string }[];
  for (const r of selfSigned) ids.add(String(r.client_id));
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
export async function diagnoseFromStore(db: Db, input: StoreDiagnoseInput): Promise<Diagnosis> {
  const anchors = input.anchors ?? (await trustAnchors.list(db));
  const crls = input.crls ?? (await loadVerifiedCrls(db)).crls;
  const candidates: DiagnosisClient[] = await findCandidateClients(db, input.leaf, input.clientId);
  for (const [i, c] of candidates.entries()) {
    if (c.jwksUri && !c.jwks && input.publishedKeys) candidates[i] = { ...c, jwks: (await input.publishedKeys(c.clientId, c.jwksUri)) ?? null };
  }
  return diagnoseCertificate({
    leaf: input.leaf,
    chain: input.chain ?? [],
    anchors,
    clients: candidates,
    clientId: input.clientId,
    now: input.now ?? new Date(),
    revocation: { crls, stalePolicy: input.crlStale ?? 'fail-closed' },
  });
}
