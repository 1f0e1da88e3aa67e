/** The clients step: every registered client this certificate authenticates as, or is mapped by. */
import { createHash } from 'node:crypto';
import { compareMappingFields, matchCertificateToClient } from '../../mapping/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import type { ClientMatch, DiagnosisClient, DiagnosisFinding } from '../types.js';

function thumbprintOfX5c(key: Record<string, unknown>): string | undefined {
  const x5c = key.x5c;
  if (!Array.isArray(x5c) || typeof x5c[0] !== 'string') return undefined;
  return createHash('sha256').update(Buffer.from(x5c[0], 'base64')).digest('base64url');
}

/** self_signed_tls_client_auth: the `x5t#S256` of the certificates a client registered (`x5c` of its keys). */
export function registeredThumbprints(client: DiagnosisClient): string[] {
  return (client.jwks?.keys ?? []).map(thumbprintOfX5c).filter((t): t is string => !!t);
}

/** The clients, each once (the first entry of a client id wins). */
export function dedupe(clients: readonly DiagnosisClient[]): DiagnosisClient[] {
  const seen = new Map<string, DiagnosisClient>();
  for (const c of clients) if (!seen.has(c.clientId)) seen.set(c.clientId, c);
  return [...seen.values()];
}

export function matchClients(
  leaf: ParsedCertificate,
  clients: readonly DiagnosisClient[],
  context: { now: Date; anchorSpki: string | undefined; blocking: DiagnosisFinding[] },
): { authenticatesAs: ClientMatch[]; mappedBy: ClientMatch[] } {
  const { now, anchorSpki, blocking } = context;
  const authenticatesAs: ClientMatch[] = [];
  const mappedBy: ClientMatch[] = [];
  for (const client of clients) {
    if (client.authMethod === 'self_signed_tls_client_auth') {
      if (registeredThumbprints(client).includes(leaf.x5t)) {
        const match: ClientMatch = { client_id: client.clientId, auth_method: client.authMethod, mapping_id: null, kind: null, value: null, code: null };
        authenticatesAs.push(match);
        mappedBy.push(match);
      }
      continue;
    }
    for (const mapping of client.mappings) {
      const fields = compareMappingFields(leaf, mapping, { now, anchorSpki });
      if (fields.identity) continue;
      const mappingCode = fields.validity?.code ?? fields.trustAnchor?.code ?? null;
      mappedBy.push({
        client_id: client.clientId,
        auth_method: client.authMethod,
        mapping_id: mapping.id,
        kind: mapping.kind,
        value: mapping.value,
        code: blocking[0]?.code ?? mappingCode,
      });
    }
    if (blocking.length === 0) {
      const result = matchCertificateToClient(leaf, client.mappings, { now, anchorSpki });
      if (result.matched) {
        authenticatesAs.push({
          client_id: client.clientId,
          auth_method: client.authMethod,
          mapping_id: result.mapping.id,
          kind: result.mapping.kind,
          value: result.mapping.value,
          code: null,
        });
      }
    }
  }
  return { authenticatesAs, mappedBy };
}
