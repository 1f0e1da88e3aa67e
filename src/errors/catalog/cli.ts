/** Codes only the `certbound` command uses (all exit 2: bad input). */
import type { CatalogEntry } from './entry.js';

function cli(meaning: string, hint: string): CatalogEntry {
  return { status: 400, surfaces: ['cli'], meaning, hint };
}

export const CLI_CODES = {
  ERR_FILE_UNREADABLE: cli('a file named by an option cannot be read', 'Give a readable file; the message names the option.'),
  ERR_DATE_INVALID: cli('a date option that is not a date', 'Use ISO 8601, e.g. 2027-01-31 or 2027-01-31T12:00:00Z.'),
  ERR_WINDOW_INVALID: cli('`--within` is not a duration', 'Use a number with a unit: 30d, 12h, 2w (m, h, d, w); a bare number means days.'),
  ERR_LIMIT_INVALID: cli('`--limit` outside 1–1000', 'Give a whole number from 1 to 1000.'),
  ERR_BOUND_TOKENS_INVALID: cli('`--bound-tokens` is not `on` or `off`', 'Use --bound-tokens on or --bound-tokens off.'),
  ERR_NOTHING_TO_CHANGE: cli('`client update` without an option', 'Give at least one of --scope, --resource, --bound-tokens, --jwks, --jwks-uri.'),
  ERR_TRUST_WITH_SELF_SIGNED: cli('`--trust` with a self-signed client', 'Leave out --trust: a self-signed client is not validated against a trust anchor.'),
  ERR_FROM_CERT_REQUIRED: cli('`--match` or `--value` without `--from-cert`', 'e.g. --from-cert client.pem --match subject-dn'),
  ERR_MATCH_REQUIRED: cli('`--from-cert` without `--match`', 'Say which value of the certificate to register, e.g. --match subject-dn.'),
  ERR_DEV_PKI_EXISTS: cli('`dev-pki --out` on existing PKI files without `--force`', 'Pick another --out, or pass --force to replace them.'),
  ERR_DEV_PKI_NOT_DEVELOPMENT: cli(
    '`dev-pki issue-client` in production mode',
    'Issue production client certificates from your CA; the development PKI is for development mode only.',
  ),
  ERR_DEV_PKI_MISSING: cli(
    '`dev-pki issue-client`: no development PKI there',
    'Start the server once in development mode (it creates <data dir>/dev-pki), or run `certbound dev-pki --out DIR` and pass --pki DIR.',
  ),
  ERR_DEV_PKI_NO_CA_KEY: cli('`dev-pki issue-client`: a development PKI without `intermediate.key`', 'Recreate it with certbound dev-pki --out DIR --force.'),
  ERR_DEV_PKI_CA_UNREADABLE: cli('`dev-pki issue-client`: the CA certificate or key is damaged or mismatched', 'Recreate it with certbound dev-pki --out DIR --force.'),
  ERR_DEV_CLIENT_NAME: cli(
    '`dev-pki issue-client`: a bad `--name`',
    'Use letters, digits, dots and hyphens (at most 64, starting and ending with a letter or digit), e.g. --name orders-worker.',
  ),
  ERR_DEV_CLIENT_SAN_DNS: cli('`dev-pki issue-client`: a bad `--san-dns`', 'Give a host name such as orders-worker.example.test.'),
  ERR_DEV_CLIENT_SUBJECT: cli('`dev-pki issue-client`: a bad `--subject`', 'Write it in RFC 4514, most specific RDN first, e.g. --subject "CN=orders-worker,O=Acme".'),
  ERR_DEV_CLIENT_EXISTS: cli('`dev-pki issue-client`: a name already issued', 'Pick another --name, or delete those files first if you mean to replace that certificate.'),
  ERR_TOKEN_OPTIONS_INVALID: cli(
    '`certbound token`: an option the client library refuses (e.g. an `http:` issuer)',
    'Correct the option the message names; the issuer must be an https URL.',
  ),
  ERR_CERTIFICATE_UNREADABLE: cli(
    '`certbound token`: the `--cert` or `--key` file cannot be read or parsed',
    'Give readable PEM files: the certificate (then any intermediates) and its private key.',
  ),
  ERR_KEY_MISMATCH: cli('`certbound token`: the `--key` does not belong to the `--cert`', 'Give the key that was generated with this certificate.'),
} as const satisfies Record<string, CatalogEntry>;
