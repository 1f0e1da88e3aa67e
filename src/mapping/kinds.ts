/**
 * The mapping kinds: what in a client certificate a tls_client_auth client is recognised by (RFC 8705
 * §2.1.2), its subject DN or one SAN of a type. One entry per kind, and every list of kinds derives from
 * this table: the store's `kind` column, the admin API's enum and its OpenAPI document, the CLI's options,
 * `--match` values and hints, the `tls_client_auth_*` member the server publishes, the matcher's and the
 * diagnosis's reading of a certificate, and the SAN extraction by GeneralName tag.
 *
 * The rules that need code are keyed by kind where they live, and the compiler names each one a new kind
 * lacks: the canonical form of a registered value and of a certificate's value (`REGISTERED_VALUE_RULES`,
 * `CERTIFICATE_VALUE_RULES` in pki/san.ts). They are not in this table because it imports nothing:
 * pki/ (below mapping/) reads it, and `certbound --help` builds its options from it without loading the
 * DN parser (@peculiar/asn1-schema) or zod (test/cli/loading.test.ts).
 */

/** The names of a certificate as parsed by pki/certificate.ts (`ParsedCertificate` fits it). */
export interface CertificateNames {
  readonly subjectRfc4514: string;
  readonly san: { readonly dns: readonly string[]; readonly uri: readonly string[]; readonly ipText: readonly string[]; readonly email: readonly string[] };
}

export interface MappingKindDefinition {
  /** The RFC 8705 §2.1.2 client metadata member that carries a value of this kind. */
  readonly metadataMember: string;
  /**
   * The subjectAltName GeneralName (RFC 5280 §4.2.1.6) that holds the value, by its context tag and ASN.1
   * name, and the member of `ParsedCertificate.san` it is read into; null for the subject DN.
   */
  readonly generalName: { readonly tag: number; readonly name: string; readonly field: 'dns' | 'uri' | 'ip' | 'email' } | null;
  /** The CLI option that registers a value of this kind (`client add`, `client mapping add`); `--match` takes its name without the dashes. */
  readonly cliFlag: `--${string}`;
  /** The option's value placeholder. */
  readonly cliValue: string;
  /** The option's help text (`client add` puts "expected" before it). */
  readonly cliHelp: string;
  /** How messages name a value of this kind in a certificate: "the certificate has no DNS SAN". */
  readonly label: string;
  /** A value of this kind, for documentation and tests. */
  readonly example: string;
  /** The values a certificate holds of this kind, as written in it (shown to people, `--from-cert`, diagnosis). */
  readonly certificateValues: (cert: CertificateNames) => readonly string[];
  /**
   * A sentence added to a SAN mismatch when the certificate's values (canonical) suggest why a value that
   * looks right does not match the registered one (canonical), or undefined.
   */
  readonly mismatchNote?: (certificateValues: readonly string[], registered: string) => string | undefined;
}

const definitions = {
  subject_dn: {
    metadataMember: 'tls_client_auth_subject_dn',
    generalName: null,
    cliFlag: '--subject-dn',
    cliValue: '<dn>',
    cliHelp: 'subject DN in RFC 4514 (most specific RDN first), e.g. "CN=billing,O=Acme,C=US"',
    label: 'subject DN',
    example: 'CN=billing,O=Acme,C=US',
    certificateValues: (cert) => [cert.subjectRfc4514],
  },
  san_dns: {
    metadataMember: 'tls_client_auth_san_dns',
    generalName: { tag: 2, name: 'dNSName', field: 'dns' },
    cliFlag: '--san-dns',
    cliValue: '<name>',
    cliHelp: 'DNS SAN',
    label: 'DNS',
    example: 'billing.example.com',
    certificateValues: (cert) => cert.san.dns,
    mismatchNote: (values) => (values.some((v) => v.startsWith('*.')) ? ' Wildcard SANs are matched literally, never expanded.' : undefined),
  },
  san_uri: {
    metadataMember: 'tls_client_auth_san_uri',
    generalName: { tag: 6, name: 'uniformResourceIdentifier', field: 'uri' },
    cliFlag: '--san-uri',
    cliValue: '<uri>',
    cliHelp: 'URI SAN',
    label: 'URI',
    example: 'spiffe://example.org/billing',
    certificateValues: (cert) => cert.san.uri,
  },
  san_ip: {
    metadataMember: 'tls_client_auth_san_ip',
    generalName: { tag: 7, name: 'iPAddress', field: 'ip' },
    cliFlag: '--san-ip',
    cliValue: '<ip>',
    cliHelp: 'IP address SAN',
    label: 'IP',
    example: '192.0.2.10',
    certificateValues: (cert) => cert.san.ipText,
    mismatchNote: (values, registered) =>
      values.some((v) => v.length !== registered.length) ? ' IPv4 and IPv6 (including IPv4-mapped ::ffff:a.b.c.d) addresses are different addresses.' : undefined,
  },
  san_email: {
    metadataMember: 'tls_client_auth_san_email',
    generalName: { tag: 1, name: 'rfc822Name', field: 'email' },
    cliFlag: '--san-email',
    cliValue: '<addr>',
    cliHelp: 'email SAN',
    label: 'e-mail',
    example: 'billing@example.com',
    certificateValues: (cert) => cert.san.email,
    mismatchNote: (values, registered) =>
      values.some((v) => v.toLowerCase() === registered.toLowerCase()) ? ' The local part of an e-mail address is compared case-sensitively.' : undefined,
  },
} as const satisfies Record<string, MappingKindDefinition>;

export type MappingKind = keyof typeof definitions;
/** The kinds whose value is a SAN (all but the subject DN). */
export type SanKind = { [K in MappingKind]: (typeof definitions)[K]['generalName'] extends null ? never : K }[MappingKind];

/** Every kind's definition, in the order lists show them. */
export const MAPPING_KIND_DEFINITIONS: Readonly<Record<MappingKind, MappingKindDefinition>> = Object.freeze(definitions);

export const MAPPING_KINDS: readonly MappingKind[] = Object.freeze(Object.keys(definitions) as MappingKind[]);

export const SAN_KINDS: readonly SanKind[] = Object.freeze(MAPPING_KINDS.filter((k): k is SanKind => definitions[k].generalName !== null));

export function isMappingKind(kind: unknown): kind is MappingKind {
  return typeof kind === 'string' && Object.hasOwn(definitions, kind);
}

export function isSanKind(kind: unknown): kind is SanKind {
  return isMappingKind(kind) && definitions[kind].generalName !== null;
}

/** The RFC 8705 client metadata member of each kind (`tls_client_auth_san_dns` …). */
export const MAPPING_KIND_PARAMETER: Readonly<Record<MappingKind, string>> = Object.freeze(
  Object.fromEntries(MAPPING_KINDS.map((k) => [k, definitions[k].metadataMember])) as Record<MappingKind, string>,
);

/** The CLI options of the kinds, in order (`--subject-dn`, `--san-dns` …), for hints that list them. */
export const MAPPING_KIND_FLAGS: readonly string[] = Object.freeze(MAPPING_KINDS.map((k) => definitions[k].cliFlag));

/** `--match` values of `--from-cert` (CLI) and the kind each selects: the CLI option without its dashes. */
export const MATCH_KINDS: Readonly<Record<string, MappingKind>> = Object.freeze(Object.fromEntries(MAPPING_KINDS.map((k) => [definitions[k].cliFlag.slice(2), k])));

/** The SAN kind read from a GeneralName context tag, if certbound maps that type. */
export function sanKindOfGeneralNameTag(tag: number): SanKind | undefined {
  return SAN_KINDS.find((k) => MAPPING_KIND_DEFINITIONS[k].generalName?.tag === tag);
}
