/** The client step: the certificate as one named client, whatever its authentication method. */
import { matchCertificateToClient } from '../../mapping/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import { DIAGNOSIS_CODES } from '../reasons.js';
import type { ClientDiagnosis, DiagnosisClient } from '../types.js';
import { registeredThumbprints } from './clients.js';
import { type ClientContext, diagnoseMapping } from './mapping.js';

export function diagnoseClient(leaf: ParsedCertificate, client: DiagnosisClient | undefined, clientId: string, ctx: ClientContext): ClientDiagnosis {
  if (!client) {
    return {
      client_id: clientId,
      found: false,
      auth_method: null,
      would_authenticate: false,
      code: 'CLIENT_UNKNOWN',
      message: `There is no client "${clientId}".`,
      hint: DIAGNOSIS_CODES.CLIENT_UNKNOWN,
      mappings: [],
      registered_certificates: null,
    };
  }
  if (client.authMethod === 'private_key_jwt') {
    // BT-2: the certificate is proof of possession only; the signed client assertion authenticates.
    return {
      client_id: clientId,
      found: true,
      auth_method: client.authMethod,
      would_authenticate: false,
      code: 'CLIENT_NOT_CERTIFICATE_AUTH',
      message: `Client ${clientId} authenticates with private_key_jwt (a client assertion signed with one of its ${client.jwks?.keys.length ?? 0} registered keys), not with a certificate. Any certificate it connects with over mTLS is bound to its tokens (x5t#S256 ${leaf.x5t} for this one); no CA or mapping check applies.`,
      hint: DIAGNOSIS_CODES.CLIENT_NOT_CERTIFICATE_AUTH,
      mappings: [],
      registered_certificates: null,
    };
  }
  if (client.authMethod === 'self_signed_tls_client_auth') {
    const registered = registeredThumbprints(client);
    const ok = registered.includes(leaf.x5t);
    return {
      client_id: clientId,
      found: true,
      auth_method: client.authMethod,
      would_authenticate: ok,
      code: ok ? null : 'SELF_SIGNED_NOT_REGISTERED',
      message: ok
        ? `The certificate is the one registered for ${clientId} (self_signed_tls_client_auth${client.jwksUri ? `, published at ${client.jwksUri}` : ''}).`
        : client.jwksUri && !client.jwks
          ? `Client ${clientId} publishes its certificates at ${client.jwksUri} (jwks_uri), which could not be read for this diagnosis; this certificate is ${leaf.x5t}.`
          : `Client ${clientId} uses self_signed_tls_client_auth and has ${registered.length === 1 ? `the certificate ${registered[0]}` : `the certificates ${registered.join(', ')}`} ${client.jwksUri ? `published at ${client.jwksUri}` : 'registered'}; this certificate is ${leaf.x5t}.`,
      hint: ok ? null : DIAGNOSIS_CODES.SELF_SIGNED_NOT_REGISTERED,
      mappings: [],
      registered_certificates: registered,
    };
  }
  const mappings = client.mappings.map((m) => diagnoseMapping(leaf, m, ctx));
  const base = { client_id: clientId, found: true, auth_method: client.authMethod, mappings, registered_certificates: null };
  const blocking = ctx.blocking[0];
  if (blocking) return { ...base, would_authenticate: false, code: blocking.code, message: blocking.message, hint: blocking.hint };
  const result = matchCertificateToClient(leaf, client.mappings, { now: ctx.now, anchorSpki: ctx.anchorSpki });
  if (result.matched) {
    const m = result.mapping;
    return { ...base, would_authenticate: true, code: null, message: `The certificate authenticates as ${clientId} through mapping ${m.id} (${m.kind}=${m.value}).`, hint: null };
  }
  // The reason the token endpoint logs: the first mapping's (matchCertificateToClient order).
  const reason = result.reasons[0]!;
  const detailed = mappings.find((m) => m.id === reason.mappingId);
  let message = detailed?.message ?? reason.message;
  if (reason.code === 'SAN_MISMATCH') {
    // Closest registered value over all of the client's mappings of a SAN kind.
    const best = mappings
      .map((m) => m.fields.identity.closest)
      .filter((c): c is NonNullable<typeof c> => !!c)
      .sort((a, b) => a.distance - b.distance)[0];
    if (best) message = `${reason.message} Closest: registered ${best.registered}, certificate ${best.certificate}.`;
  }
  return { ...base, would_authenticate: false, code: reason.code, message, hint: detailed?.hint ?? reason.hint };
}
