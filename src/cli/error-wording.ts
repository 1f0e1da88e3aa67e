/**
 * The CLI's words for the application's refusals. A use case refuses with a code, a neutral sentence
 * and the input member it is about (src/app/error-fields.ts); here that becomes what a person at the
 * terminal reads: the flag they typed (`--scope`, `--ttl`) and the command that helps next. Errors of
 * other codes, or without the fields a wording needs, are printed as they are.
 */
import type { CertboundError } from '../errors/index.js';
import { MAPPING_KIND_FLAGS } from '../mapping/kinds.js';

/** The fields an application error carries (src/app/error-fields.ts), read without loading src/app. */
type Fields = { member?: string; [value: string]: unknown };

/** The flag of each use-case input member, where the CLI has one. */
const FLAGS: Readonly<Record<string, string>> = {
  scopes: '--scope',
  ttl: '--ttl',
  tokenFormat: '--format',
  introspectionClients: '--introspection-clients',
  identifier: '--id',
  defaultResource: '--resource',
  jwks: '--jwks',
  jwksUri: '--jwks-uri',
  notBefore: '--not-before',
  notAfter: '--not-after',
  within: '--within',
  expiresIn: '--expires-in',
  maxUses: '--max-uses',
  approval: '--approval',
  environments: '--environment',
  resources: '--resource',
  grantTypes: '--grant-types',
  redirectUris: '--redirect-uri',
  issuer: '--issuer',
  clientSecret: '--client-secret-file',
  privateKey: '--private-key',
  subjectClaim: '--subject-claim',
  authMethod: '--auth-method',
};

/** The flags of a public client's refused credentials (the members of `client add`). */
const SUBJECT_FLAGS: Readonly<Record<string, string>> = {
  mapping: 'a subject or SAN option',
  selfSignedCertPem: '--self-signed-cert',
  selfSignedJwks: '--self-signed-jwks',
  selfSignedJwksUri: '--self-signed-jwks-uri',
  privateKeyJwtJwks: '--private-key-jwt-jwks',
  privateKeyJwtJwksUri: '--private-key-jwt-jwks-uri',
  jwks: '--jwks',
  jwksUri: '--jwks-uri',
};

/** The flag of `member` (`mapping.notAfter` is `--not-after` too). */
function flagOf(member: string | undefined): string | undefined {
  return member === undefined ? undefined : FLAGS[member.slice(member.lastIndexOf('.') + 1)];
}

interface Wording {
  message?: string;
  /** `null`: no hint. */
  hint?: string | null;
}

const WORDINGS: Readonly<Record<string, (err: CertboundError, f: Fields) => Wording | undefined>> = {
  ERR_SCOPE_INVALID: (err, f) => (f.problem === 'none' ? { hint: 'e.g. --scope "read write"' } : { message: `--scope: ${err.message}` }),
  ERR_CLIENT_ID_INVALID: (err, f) => (f.member === 'introspectionClients' ? { message: `--introspection-clients: ${err.message}` } : undefined),
  ERR_CLIENT_UNKNOWN: (err, f) =>
    f.member === 'introspectionClients'
      ? { message: `--introspection-clients: ${err.message}`, hint: "Register the resource server's own client first (certbound client add --id …), then name it here." }
      : f.clientId !== undefined
        ? { hint: 'List clients with: certbound client list' }
        : undefined,
  ERR_TTL_INVALID: (_err, f) => (f.value === undefined ? undefined : { message: `--ttl ${String(f.value)} is out of range` }),
  ERR_FORMAT_INVALID: (_err, f) => (f.value === undefined ? undefined : { message: `--format ${String(f.value)} is not jwt or opaque` }),
  ERR_WINDOW_INVALID: (_err, f) => (f.value === undefined ? undefined : { message: `--within ${String(f.value)} is not a duration.` }),
  ERR_MAPPING_WINDOW: (_err, f) =>
    f.problem === 'order'
      ? { message: '--not-after must be later than --not-before' }
      : f.problem === 'date'
        ? { message: `${flagOf(f.member) ?? 'a date'} is not a valid date` }
        : undefined,
  ERR_MAPPING_NO_CHANGE: () => ({ message: 'Nothing to change: give a new --not-before or --not-after.' }),
  ERR_TRUST_ANCHOR_UNKNOWN: (_err, f) => (Array.isArray(f.known) && f.known.length === 0 ? { hint: 'Add one first with: certbound trust add --name NAME --cert FILE' } : undefined),
  ERR_CERT_PARSE: (_err, f) => (typeof f.count === 'number' ? { message: `A trust anchor is one CA certificate; the file holds ${f.count}.` } : undefined),
  ERR_RESOURCE_UNKNOWN: (_err, f) =>
    Array.isArray(f.registered) && f.registered.length === 0 ? { hint: 'Add it first with: certbound resource add --id URI --scope "…"' } : undefined,
  ERR_SCOPE_UNKNOWN: () => ({ hint: 'Add the scope to a resource server first (certbound resource add --id URI --scope "…"), or remove it from the client.' }),
  ERR_CLIENT_SUBJECT_REQUIRED: (err) =>
    err.hint
      ? undefined
      : {
          hint: `Use one of ${MAPPING_KIND_FLAGS.join(', ')}, --self-signed-cert, --self-signed-jwks, --self-signed-jwks-uri, --private-key-jwt-jwks or --private-key-jwt-jwks-uri (RFC 8705 §2.1.2: exactly one subject).`,
        },
  ERR_CLIENT_EXISTS: () => ({ hint: 'Inspect it (certbound client show ID), or pick another id.' }),
  ERR_CLIENT_KEYS: (_err, f) =>
    f.problem === 'both'
      ? { message: 'Give either --jwks or --jwks-uri, not both (SS-11).' }
      : f.problem === 'mappings'
        ? { hint: 'Change its certificates with: certbound client mapping add|remove' }
        : undefined,
  ERR_ADMIN_LAST: () => ({
    hint: 'Create another administrator first (certbound client add … --scope certbound:admin, with bound tokens and a mapping or key it can authenticate with now), or fix one that cannot sign in.',
  }),
  ERR_MAPPING_UNKNOWN: (_err, f) => (f.clientId === undefined ? undefined : { hint: `certbound client mapping list ${String(f.clientId)} lists its mappings.` }),
  ERR_MAPPING_LAST: (_err, f) => (f.change === 'window' ? { hint: 'Add the new mapping first (certbound client mapping add), then end the old one.' } : undefined),
  ERR_MAPPING_OVERLAP: () => ({
    hint: 'Give each client its own certificate subject, pin the mappings to different trust anchors, or allow the overlap (--allow-overlap) if both clients really share the certificate.',
  }),
  ERR_KEY_UNKNOWN: (_err, f) => (f.kid === undefined ? undefined : { hint: 'certbound keys list shows the keys.' }),
  ERR_KEY_ACTIVE: () => ({ hint: 'Rotate first (certbound keys rotate), then retire the old key.' }),
  ERR_GRANT_TYPE_INVALID: (err) => ({ message: `--grant-types: ${err.message}` }),
  ERR_REDIRECT_URI_INVALID: (err) => ({ message: `--redirect-uri: ${err.message}` }),
  ERR_GRANT_TYPES_INCONSISTENT: (err, f) =>
    f.problem === 'missing'
      ? { hint: 'Give it with --redirect-uri https://app.example.com/callback (repeat for several).' }
      : f.problem === 'refresh_without_code'
        ? { hint: 'Use --grant-types authorization_code,refresh_token, or leave refresh_token out.' }
        : f.problem === 'unused'
          ? { message: `--redirect-uri: ${err.message}`, hint: 'Add authorization_code to --grant-types, or leave --redirect-uri out (client update: --no-redirect-uris).' }
          : undefined,
  ERR_PUBLIC_CLIENT: (err, f) =>
    f.problem === 'client_credentials'
      ? { hint: 'Use --grant-types authorization_code (with refresh_token if it refreshes), or register a confidential client (without --public) for client_credentials.' }
      : f.problem === 'credentials' && typeof f.member === 'string'
        ? { message: `${SUBJECT_FLAGS[f.member] ?? f.member}: ${err.message}`, hint: 'Leave it out with --public, or register a confidential client (without --public).' }
        : f.problem === 'unbound'
          ? { message: `--no-bound-tokens (--bound-tokens off): ${err.message}` }
          : undefined,
  ERR_UPSTREAM_INVALID: (err, f) => {
    const flag = flagOf(f.member) ?? (f.member === 'clientId' ? '--client-id' : f.member === 'scopes' ? '--scope' : undefined);
    return flag ? { message: `${flag}: ${err.message}` } : undefined;
  },
  ERR_UPSTREAM_CREDENTIALS: (err, f) => {
    const flag = flagOf(f.member);
    return flag ? { message: `${flag}: ${err.message}` } : undefined;
  },
  ERR_UPSTREAM_DISCOVERY: () => ({ hint: 'Check --issuer (the provider’s "issuer" value, exactly) and that this host reaches the provider; or set it without --check.' }),
  ERR_UPSTREAM_UNKNOWN: () => ({ hint: 'Configure one with: certbound upstream set --issuer URL --client-id ID --client-secret-file FILE' }),
  ERR_CONSENT_UNKNOWN: (_err, f) => ({ hint: `certbound consent list --client ${String(f.clientId ?? 'ID')} lists that client's consents.` }),
  ERR_REFRESH_TOKEN_UNKNOWN: () => ({ hint: 'certbound refresh-token list shows the live ones (a revoked or expired token is gone).' }),
  ERR_DEV_CLIENT_NAME: (err) => ({
    message: `--name ${err.message}`,
    hint: 'Use letters, digits, dots and hyphens (at most 64, starting and ending with a letter or digit), e.g. --name orders-worker.',
  }),
  ERR_DEV_CLIENT_SAN_DNS: (err) => ({ message: `--san-dns ${err.message}` }),
  ERR_DEV_CLIENT_SUBJECT: (err) => ({ message: `--subject ${err.message}`, hint: 'Write it in RFC 4514, most specific RDN first, e.g. --subject "CN=orders-worker,O=Acme".' }),
  ERR_DEV_CLIENT_EXISTS: () => ({ hint: 'Pick another --name, or delete those files first if you mean to replace that certificate.' }),
};

/**
 * The error as the CLI prints it after `error: `: its message in the CLI's words, then the hint.
 *
 * @example
 * io.err(`error: ${explainForCli(err)}`); // error: --scope: "a\"b" is not a valid scope token\n  → Scopes are …
 */
export function cliWording(err: CertboundError): { message: string; hint: string | undefined } {
  const wording = WORDINGS[err.code]?.(err, (err.details ?? {}) as Fields);
  const message = wording?.message ?? err.message;
  const hint = wording?.hint === null ? undefined : (wording?.hint ?? err.hint);
  return { message, hint };
}

/** The message and hint of `err` in the CLI's words, as one text. */
export function explainForCli(err: CertboundError): string {
  const { message, hint } = cliWording(err);
  return hint ? `${message}\n  → ${hint}` : message;
}
