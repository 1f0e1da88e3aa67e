/**
 * CRLs per trust anchor (PKI-5), as an administrator drives them: registering a CRL source (file or URL)
 * for a CA of an anchor's PKI, fetching and verifying it, listing, removing and refreshing by hand. What
 * the token path and the diagnosis need at run time (loading the verified set, the scheduled refresh) is
 * in src/revocation/.
 *
 * A CRL is signed by the CA whose certificates it lists: the anchor itself (it lists the intermediates
 * the root issued), or an intermediate (it lists the leaves). For an intermediate's CRL the CA
 * certificate is given with `issuerPem` (followed by any CA certificates up to the anchor) and must chain
 * to the anchor; the CRL's signature is verified with it before anything is stored.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { type ParsedCertificate, parseCertificate, parsePemCertificates, verifyCrl } from '../pki/index.js';
import { type CrlSource, type FetchCrl, fetchCrlSource, refreshStoredCrl } from '../revocation/index.js';
import { bumpRevision, type CrlRecord, crls, type Queryable, sqlOf, type TrustAnchor, trustAnchors, writeAudit } from '../store/index.js';

function sourceOf(input: { file?: string | undefined; url?: string | undefined }): CrlSource {
  if (Boolean(input.file) === Boolean(input.url)) {
    throw new InvalidInputError('ERR_CRL_SOURCE', 'Give exactly one CRL source: --file PATH or --url URL.');
  }
  if (input.file) return { kind: 'file', location: path.resolve(input.file) };
  let url: URL;
  try {
    url = new URL(input.url!);
  } catch {
    throw new InvalidInputError('ERR_CRL_SOURCE', `--url ${input.url} is not a URL.`, { hint: 'e.g. --url http://crl.example.com/issuing-ca.crl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError('ERR_CRL_SOURCE', `--url ${input.url}: only http and https URLs are fetched.`, { hint: 'For a local file use --file.' });
  }
  return { kind: 'url', location: url.href };
}

function issued(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const c = new X509Certificate(child.der);
  const i = new X509Certificate(issuer.der);
  return i.ca && c.checkIssued(i) && c.verify(i.publicKey);
}

/** The CA that signs the CRL: the anchor, or `issuerPem`'s first certificate once it chains to the anchor. */
function crlIssuer(anchor: TrustAnchor, issuerPem: string | undefined): ParsedCertificate {
  const anchorCert = parseCertificate(parsePemCertificates(anchor.pem)[0]!);
  if (!issuerPem) return anchorCert;
  const [first, ...rest] = parsePemCertificates(issuerPem).map((d) => parseCertificate(d));
  if (first!.spkiSha256 === anchorCert.spkiSha256) return anchorCert;
  if (!new X509Certificate(first!.der).ca) {
    throw new InvalidInputError('ERR_CRL_ISSUER', `--issuer-cert: ${first!.subjectRfc4514} is not a CA certificate.`, {
      hint: 'Give the certificate of the CA that signs the CRL.',
    });
  }
  // Each certificate is issued by the next one, and the last one by the anchor.
  let current = first!;
  let chains = true;
  for (const next of rest) {
    if (next.spkiSha256 === anchorCert.spkiSha256 || !issued(current, next)) {
      chains = next.spkiSha256 === anchorCert.spkiSha256;
      break;
    }
    current = next;
  }
  if (chains && issued(current, anchorCert)) return first!;
  throw new InvalidInputError('ERR_CRL_ISSUER', `--issuer-cert: ${first!.subjectRfc4514} does not chain to the trust anchor ${anchor.name} (${anchor.subject}).`, {
    hint: 'Give the CA certificate that signs the CRL, followed by any CA certificates between it and the anchor.',
  });
}

export interface AddCrlInput {
  /** Trust anchor name. */
  anchor: string;
  file?: string | undefined;
  url?: string | undefined;
  /** PEM of the CA that signs the CRL when it is not the anchor (then any CAs up to the anchor). */
  issuerPem?: string | undefined;
}

function describe(record: CrlRecord) {
  return {
    id: record.id,
    anchor: record.trustAnchorName,
    source: record.source,
    source_kind: record.sourceKind,
    issuer: record.issuerSubject,
    this_update: record.thisUpdate.toISOString(),
    next_update: record.nextUpdate?.toISOString() ?? null,
    revoked: record.revokedCount,
    fetched_at: record.fetchedAt.toISOString(),
    last_error: record.lastError,
  };
}

/**
 * CRL use cases over a database (CLI `certbound trust crl …`).
 *
 * @example
 * const service = createCrlService({ db });
 * await service.addCrl({ anchor: 'corp-root', url: 'http://crl.example.com/root.crl' }, 'cli:alice');
 */
export function createCrlService({ db, fetchCrl = fetchCrlSource }: { db: Queryable; fetchCrl?: FetchCrl }) {
  async function findAnchor(trx: Queryable, name: string): Promise<TrustAnchor> {
    const anchor = await trustAnchors.findByName(trx, name);
    if (!anchor) {
      const known = (await trustAnchors.list(trx)).map((a) => a.name);
      throw new NotFoundError('ERR_TRUST_ANCHOR_UNKNOWN', `There is no trust anchor named "${name}".`, {
        hint: known.length ? `Known trust anchors: ${known.join(', ')}.` : 'Add one first with: certbound trust add',
      });
    }
    return anchor;
  }

  return {
    /** Fetches the CRL once, verifies it with its issuer, then stores the source and the CRL (audited). */
    async addCrl(input: AddCrlInput, actor: string): Promise<CrlRecord> {
      const source = sourceOf(input);
      const anchor = await findAnchor(db, input.anchor);
      const issuer = crlIssuer(anchor, input.issuerPem);
      const verified = await verifyCrl(await fetchCrl(source), issuer);
      const now = new Date();
      const record: CrlRecord = {
        id: randomUUID(),
        trustAnchorId: anchor.id,
        trustAnchorName: anchor.name,
        sourceKind: source.kind,
        source: source.location,
        issuerPem: `-----BEGIN CERTIFICATE-----\n${issuer.der
          .toString('base64')
          .replace(/(.{64})/g, '$1\n')
          .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
        issuerSubject: issuer.subjectRfc4514,
        issuerSpkiSha256: issuer.spkiSha256,
        crlDer: verified.der,
        thisUpdate: verified.thisUpdate,
        nextUpdate: verified.nextUpdate ?? null,
        revokedCount: verified.revoked.size,
        fetchedAt: now,
        lastAttemptAt: now,
        lastError: null,
        createdAt: now,
      };
      await sqlOf(db).transaction(async (trx) => {
        const anchorNow = await findAnchor(trx, input.anchor);
        const existing = (await crls.list(trx)).find((c) => c.trustAnchorId === anchorNow.id && c.issuerSpkiSha256 === issuer.spkiSha256);
        if (existing) {
          throw new ConflictError('ERR_CRL_EXISTS', `Trust anchor ${anchor.name} already has a CRL of ${issuer.subjectRfc4514} (${existing.id}, from ${existing.source}).`, {
            hint: `Remove it first: certbound trust crl remove ${anchor.name} ${existing.id}`,
          });
        }
        await crls.insert(trx, record);
        await bumpRevision(trx, 'trust_anchors');
        await writeAudit(trx, { actor, action: 'trust.crl.add', target: `trust:${anchor.name}`, after: describe(record) });
      });
      return record;
    },

    listCrls: (): Promise<CrlRecord[]> => crls.list(db),

    async removeCrl(anchorName: string, id: string, actor: string): Promise<void> {
      await sqlOf(db).transaction(async (trx) => {
        const anchor = await findAnchor(trx, anchorName);
        const record = await crls.find(trx, id);
        if (!record || record.trustAnchorId !== anchor.id) {
          throw new NotFoundError('ERR_CRL_UNKNOWN', `Trust anchor ${anchorName} has no CRL ${id}.`, { hint: 'certbound trust crl list shows them.' });
        }
        await crls.remove(trx, id);
        await bumpRevision(trx, 'trust_anchors');
        await writeAudit(trx, { actor, action: 'trust.crl.remove', target: `trust:${anchorName}`, before: describe(record) });
      });
    },

    /**
     * Fetches the CRL again from its source; stores it when it is newer (then servers reload it).
     * Returns `updated`, `unchanged`, or throws the fetch/verification error (also recorded on the row).
     */
    /** `certbound trust crl refresh`: the same refresh a server runs when the CRL is due (src/revocation). */
    refreshCrl: (record: CrlRecord, now = new Date()): Promise<'updated' | 'unchanged'> => refreshStoredCrl(db, record, { fetchCrl, now }),

    describe,
  };
}

export type CrlService = ReturnType<typeof createCrlService>;
