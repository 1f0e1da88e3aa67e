import type { Db } from './knex.js';
import { type Queryable, sqlOf, toMs } from './sql.js';
import { isStorableKey } from './keys.js';
import { bumpRevision } from './revisions.js';

export interface TrustAnchor {
  id: string;
  name: string;
  pem: string;
  /** base64url SHA-256 of the SubjectPublicKeyInfo: how anchors are pinned (never by name). */
  spkiSha256: string;
  x5tS256: string;
  /** RFC 4514 subject, for display. */
  subject: string;
  environment: string | null;
  /**
   * H15-4: client certificates under this anchor may have no Extended Key Usage extension at all (a legacy
   * PKI that issues none). Never lets through an EKU that lacks clientAuth. Default false.
   */
  allowMissingEku: boolean;
  notAfter: Date;
  createdAt: Date;
}

function fromRow(r: Record<string, unknown>): TrustAnchor {
  return {
    id: String(r.id),
    name: String(r.name),
    pem: String(r.pem),
    spkiSha256: String(r.spki_sha256),
    x5tS256: String(r.x5t_s256),
    subject: String(r.subject),
    environment: r.environment === null || r.environment === undefined ? null : String(r.environment),
    // SQLite returns 0/1, PostgreSQL a boolean.
    allowMissingEku: r.allow_missing_eku === true || Number(r.allow_missing_eku) === 1,
    notAfter: new Date(toMs(r.not_after) ?? 0),
    createdAt: new Date(toMs(r.created_at) ?? 0),
  };
}

export const trustAnchors = {
  async list(db: Queryable): Promise<TrustAnchor[]> {
    return (await sqlOf(db).all('select * from trust_anchors order by name')).map(fromRow);
  },
  async findByName(db: Queryable, name: string): Promise<TrustAnchor | undefined> {
    if (!isStorableKey(name)) return undefined;
    const [r] = await sqlOf(db).all('select * from trust_anchors where name = ?', [name]);
    return r ? fromRow(r) : undefined;
  },
  async findById(db: Queryable, id: string): Promise<TrustAnchor | undefined> {
    const [r] = await sqlOf(db).all('select * from trust_anchors where id = ?', [id]);
    return r ? fromRow(r) : undefined;
  },
  async findBySpki(db: Queryable, spkiSha256: string): Promise<TrustAnchor | undefined> {
    const [r] = await sqlOf(db).all('select * from trust_anchors where spki_sha256 = ?', [spkiSha256]);
    return r ? fromRow(r) : undefined;
  },
  async insert(db: Db, a: TrustAnchor): Promise<void> {
    await bumpRevision(db, 'clients');
    await db('trust_anchors').insert({
      id: a.id,
      name: a.name,
      pem: a.pem,
      spki_sha256: a.spkiSha256,
      x5t_s256: a.x5tS256,
      subject: a.subject,
      environment: a.environment,
      allow_missing_eku: a.allowMissingEku,
      not_after: a.notAfter.getTime(),
      created_at: a.createdAt.getTime(),
    });
  },
  async remove(db: Db, id: string): Promise<void> {
    await bumpRevision(db, 'clients');
    await db('trust_anchors').where({ id }).delete();
  },
  async countMappingsPinned(db: Queryable, id: string): Promise<{ clientId: string }[]> {
    return (await sqlOf(db).all<{ client_id: unknown }>('select client_id from certificate_mappings where trust_anchor_id = ?', [id])).map((r) => ({
      clientId: String(r.client_id),
    }));
  },
};
