/**
 * Trust anchors: the CAs whose client certificates may authenticate (tls_client_auth). Their CRLs have
 * use cases of their own (crls.ts). Every write bumps the trust-anchor revision, so running servers
 * reload their TLS trust, and writes its audit row in the same transaction.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { parseCertificate, parsePemCertificates } from '../pki/index.js';
import { bumpRevision, type Db, type TrustAnchor, trustAnchors, writeAudit } from '../store/index.js';
import { attributedSync } from './error-fields.js';
import { ENVIRONMENT_PATTERN, NAME_PATTERN } from './patterns.js';

export interface AddTrustAnchorInput {
  name: string;
  pem: string;
  environment?: string | undefined;
  /** H15-4: accept client certificates without any EKU extension under this anchor (legacy PKIs). Default false. */
  allowMissingEku?: boolean | undefined;
}

/**
 * The trust anchor named `name`; ERR_TRUST_ANCHOR_UNKNOWN (404) naming the known ones when there is
 * none. `member` is the input that named it, when the name came in a request's member.
 */
export async function resolveTrustAnchor(db: Db, name: string, member?: string): Promise<TrustAnchor> {
  const anchor = await trustAnchors.findByName(db, name);
  if (anchor) return anchor;
  const known = (await trustAnchors.list(db)).map((a) => a.name);
  throw new NotFoundError('ERR_TRUST_ANCHOR_UNKNOWN', `There is no trust anchor named "${name}".`, {
    ...(known.length ? { hint: `Known trust anchors: ${known.join(', ')}.` } : {}),
    details: { ...(member ? { member } : {}), name, known },
  });
}

/**
 * The trust-anchor use cases over a database.
 *
 * @example
 * const anchors = createTrustAnchorUseCases({ db });
 * await anchors.addTrustAnchor({ name: 'corp-root', pem: readFileSync('root.pem', 'utf8') }, 'cli:alice');
 */
export function createTrustAnchorUseCases({ db }: { db: Db }) {
  return {
    async addTrustAnchor(input: AddTrustAnchorInput, actor: string): Promise<TrustAnchor> {
      if (!NAME_PATTERN.test(input.name)) {
        throw new InvalidInputError('ERR_NAME_INVALID', `"${input.name}" is not a valid trust anchor name`, {
          hint: 'Use letters, digits, ".", "_" and "-" (at most 100).',
          details: { member: 'name' },
        });
      }
      if (input.environment !== undefined && !ENVIRONMENT_PATTERN.test(input.environment)) {
        throw new InvalidInputError('ERR_NAME_INVALID', `"${input.environment}" is not a valid environment label`, {
          hint: 'Use a short label such as prod or staging (letters, digits, ".", "_" and "-", at most 64).',
          details: { member: 'environment' },
        });
      }
      const ders = attributedSync('pem', () => parsePemCertificates(input.pem));
      if (ders.length !== 1) {
        throw new InvalidInputError('ERR_CERT_PARSE', `A trust anchor is one CA certificate; ${ders.length} were given.`, {
          hint: 'Split the bundle and add each CA under its own name.',
          details: { member: 'pem', count: ders.length },
        });
      }
      const parsed = attributedSync('pem', () => parseCertificate(ders[0]!));
      const nodeCert = new X509Certificate(parsed.der);
      if (!nodeCert.ca) {
        throw new InvalidInputError('ERR_TRUST_ANCHOR_NOT_CA', `The certificate ${parsed.subjectRfc4514} is not a CA certificate (basicConstraints cA is not set).`, {
          hint: 'Add the root (or issuing) CA certificate, not a client or server certificate.',
          details: { member: 'pem' },
        });
      }
      if (parsed.notAfter.getTime() < Date.now()) {
        throw new InvalidInputError('ERR_TRUST_ANCHOR_EXPIRED', `The CA certificate ${parsed.subjectRfc4514} expired on ${parsed.notAfter.toISOString()}.`, {
          details: { member: 'pem' },
        });
      }
      const anchor: TrustAnchor = {
        id: randomUUID(),
        name: input.name,
        pem: `-----BEGIN CERTIFICATE-----\n${parsed.der
          .toString('base64')
          .replace(/(.{64})/g, '$1\n')
          .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
        spkiSha256: parsed.spkiSha256,
        x5tS256: parsed.x5t,
        subject: parsed.subjectRfc4514,
        environment: input.environment ?? null,
        allowMissingEku: input.allowMissingEku === true,
        notAfter: parsed.notAfter,
        createdAt: new Date(),
      };
      await db.transaction(async (trx) => {
        if (await trustAnchors.findByName(trx, input.name)) {
          throw new ConflictError('ERR_TRUST_ANCHOR_EXISTS', `A trust anchor named "${input.name}" already exists.`, {
            hint: 'Pick another name, or remove the old one first.',
            details: { member: 'name' },
          });
        }
        const same = await trustAnchors.findBySpki(trx, anchor.spkiSha256);
        if (same) {
          throw new ConflictError('ERR_TRUST_ANCHOR_KEY_EXISTS', `This CA key is already trusted as "${same.name}".`, {
            hint: `One anchor per CA key: use "${same.name}", or remove it first.`,
            details: { member: 'pem' },
          });
        }
        await trustAnchors.insert(trx, anchor);
        await bumpRevision(trx, 'trust_anchors');
        await writeAudit(trx, { actor, action: 'trust.add', target: `trust:${anchor.name}`, after: { ...anchor, pem: undefined } });
      });
      return anchor;
    },

    listTrustAnchors: (): Promise<TrustAnchor[]> => trustAnchors.list(db),

    showTrustAnchor: (name: string): Promise<TrustAnchor> => resolveTrustAnchor(db, name),

    /** Refused (ERR_TRUST_ANCHOR_IN_USE) while mappings are pinned to it. */
    async removeTrustAnchor(name: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const anchor = await resolveTrustAnchor(trx, name);
        const pinned = await trustAnchors.countMappingsPinned(trx, anchor.id);
        if (pinned.length) {
          const clientIds = [...new Set(pinned.map((p) => p.clientId))];
          throw new ConflictError('ERR_TRUST_ANCHOR_IN_USE', `Trust anchor "${name}" is pinned by mappings of: ${clientIds.join(', ')}.`, {
            hint: 'Remove or re-pin those mappings first.',
            details: { clients: clientIds },
          });
        }
        await trustAnchors.remove(trx, anchor.id);
        await bumpRevision(trx, 'trust_anchors');
        await writeAudit(trx, { actor, action: 'trust.remove', target: `trust:${name}`, before: { ...anchor, pem: undefined } });
      });
    },
  };
}

export type TrustAnchorUseCases = ReturnType<typeof createTrustAnchorUseCases>;
