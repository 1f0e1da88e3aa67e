/**
 * The certificate mappings of tls_client_auth clients: which certificate subject (DN or SAN, optionally
 * pinned to a trust anchor, within a validity window) authenticates a client. Several allow rotation;
 * no change may leave a client without a mapping valid now, or let one certificate authenticate as two
 * clients unless an administrator says so (overlap.ts).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { isMappingValidAt } from '../mapping/index.js';
import { canonicalizeMappingValue } from '../pki/index.js';
import { type ClientRecord, clients, type Db, type MappingKind, type MappingRecord, writeAudit } from '../store/index.js';
import { attributed, attributedSync } from './error-fields.js';
import { assertValidWindow } from './input-checks.js';
import { assertNoOverlap } from './overlap.js';
import { MAPPING_KINDS } from '../mapping/kinds.js';
import { resolveTrustAnchor } from './trust-anchors.js';

export type MappingInput = {
  kind: MappingKind;
  value: string;
  trustAnchor?: string | undefined;
  notBefore?: Date | undefined;
  notAfter?: Date | undefined;
  /** Accept a mapping that lets one certificate authenticate as another client too (see overlap.ts). */
  allowOverlap?: boolean | undefined;
};

/**
 * A new mapping record of `clientId`, checked (kind, value, window) and pinned to its trust anchor, to
 * be stored in the caller's transaction `trx` after the overlap check. `prefix` is the input's parent
 * member (`mapping.` for the mapping of a new client).
 */
export async function newMapping(trx: Db, clientId: string, input: MappingInput, prefix = ''): Promise<MappingRecord> {
  const anchor = input.trustAnchor ? await resolveTrustAnchor(trx, input.trustAnchor, `${prefix}trustAnchor`) : undefined;
  if (!MAPPING_KINDS.includes(input.kind)) {
    throw new InvalidInputError('ERR_MAPPING_KIND', `Unknown mapping kind "${input.kind}"`, {
      hint: `Use one of: ${MAPPING_KINDS.join(', ')}.`,
      details: { member: `${prefix}kind` },
    });
  }
  assertValidWindow(input.notBefore, input.notAfter, prefix);
  const canonical = attributedSync(`${prefix}value`, () => canonicalizeMappingValue(input.kind, input.value));
  return {
    id: randomUUID(),
    clientId,
    kind: input.kind,
    value: input.value,
    canonical,
    trustAnchorId: anchor?.id ?? null,
    trustAnchorName: anchor?.name ?? null,
    trustAnchorSpki: anchor?.spkiSha256 ?? null,
    trustAnchorEnvironment: anchor?.environment ?? null,
    notBefore: input.notBefore ?? null,
    notAfter: input.notAfter ?? null,
    createdAt: new Date(),
  };
}

/** The overlap check (overlap.ts), its refusal about `member`. */
export function assertNoOverlapOf(trx: Db, mapping: MappingRecord, allowOverlap: boolean | undefined, member: string): Promise<void> {
  return attributed(member, () => assertNoOverlap(trx, mapping, allowOverlap));
}

async function clientOf(trx: Db, clientId: string): Promise<ClientRecord> {
  const client = await clients.find(trx, clientId);
  if (!client) throw new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { details: { clientId } });
  return client;
}

function mappingOf(client: ClientRecord, mappingId: string): MappingRecord {
  const mapping = client.mappings.find((m) => m.id === mappingId);
  if (!mapping) throw new NotFoundError('ERR_MAPPING_UNKNOWN', `Client "${client.clientId}" has no mapping ${mappingId}.`, { details: { clientId: client.clientId, mappingId } });
  return mapping;
}

/**
 * The mapping use cases over a database.
 *
 * @example
 * const mappings = createMappingUseCases({ db });
 * const next = await mappings.addMapping('billing', { kind: 'san_dns', value: 'billing.example.com', notBefore: new Date('2027-01-01') }, 'cli:alice');
 * await mappings.updateMapping('billing', oldId, { notAfter: new Date('2027-01-31') }, 'cli:alice');
 */
export function createMappingUseCases({ db }: { db: Db }) {
  return {
    async addMapping(clientId: string, input: MappingInput, actor: string): Promise<MappingRecord> {
      return db.transaction(async (trx) => {
        const client = await clientOf(trx, clientId);
        if (client.authMethod !== 'tls_client_auth') {
          throw new InvalidInputError('ERR_CLIENT_NOT_PKI', `Client "${clientId}" uses ${client.authMethod}; certificate mappings apply to tls_client_auth clients.`, {
            details: { authMethod: client.authMethod },
          });
        }
        const mapping = await newMapping(trx, clientId, input);
        await assertNoOverlapOf(trx, mapping, input.allowOverlap, 'value');
        await clients.insertMapping(trx, mapping);
        await writeAudit(trx, { actor, action: 'mapping.add', target: `client:${clientId}`, after: input.allowOverlap ? { ...mapping, allowOverlap: true } : mapping });
        return mapping;
      });
    },

    /**
     * Changes a mapping's validity window, e.g. the end of the old mapping of a rotation. `undefined`
     * keeps a side, `null` opens it. The overlap check runs on the new window; a change that would leave
     * the client with no mapping valid now, where this one is, is refused (as removing the last mapping is).
     */
    async updateMapping(
      clientId: string,
      mappingId: string,
      input: { notBefore?: Date | null; notAfter?: Date | null; allowOverlap?: boolean },
      actor: string,
    ): Promise<MappingRecord> {
      return db.transaction(async (trx) => {
        const client = await clientOf(trx, clientId);
        const before = mappingOf(client, mappingId);
        if (input.notBefore === undefined && input.notAfter === undefined) {
          throw new InvalidInputError('ERR_MAPPING_NO_CHANGE', 'Nothing to change: give a new start or end of the validity window.');
        }
        const after: MappingRecord = {
          ...before,
          notBefore: input.notBefore === undefined ? before.notBefore : input.notBefore,
          notAfter: input.notAfter === undefined ? before.notAfter : input.notAfter,
        };
        assertValidWindow(after.notBefore ?? undefined, after.notAfter ?? undefined);
        const now = Date.now();
        if (isMappingValidAt(before, now) && !isMappingValidAt(after, now) && !client.mappings.some((m) => m.id !== mappingId && isMappingValidAt(m, now))) {
          throw new ConflictError('ERR_MAPPING_LAST', `Mapping ${mappingId} is the only mapping of "${clientId}" valid now; this window would lock the client out.`, {
            details: { member: 'notAfter', clientId, mappingId, change: 'window' },
          });
        }
        await assertNoOverlapOf(trx, after, input.allowOverlap, 'notAfter');
        await clients.setMappingWindow(trx, clientId, mappingId, { notBefore: after.notBefore, notAfter: after.notAfter });
        await writeAudit(trx, { actor, action: 'mapping.update', target: `client:${clientId}`, before, after: input.allowOverlap ? { ...after, allowOverlap: true } : after });
        return after;
      });
    },

    /** Refused (ERR_MAPPING_LAST) for the client's last mapping. */
    async removeMapping(clientId: string, mappingId: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const client = await clientOf(trx, clientId);
        const mapping = mappingOf(client, mappingId);
        if (client.mappings.length === 1) {
          throw new ConflictError('ERR_MAPPING_LAST', `Mapping ${mappingId} is the only mapping of "${clientId}"; removing it would lock the client out.`, {
            hint: 'Add the new mapping first, or remove the client.',
            details: { clientId, mappingId, change: 'removal' },
          });
        }
        await clients.removeMapping(trx, clientId, mappingId);
        await writeAudit(trx, { actor, action: 'mapping.remove', target: `client:${clientId}`, before: mapping });
      });
    },
  };
}

export type MappingUseCases = ReturnType<typeof createMappingUseCases>;
