#!/usr/bin/env node
// Copies the x509-limbo cases certbound adopts (docs/x509-policy.md) from a compiled limbo.json into
// test/fixtures/x509-limbo/cases.json, unchanged apart from dropping the fields certbound does not use.
// Usage: node scripts/import-x509-limbo.mjs path/to/limbo.json
import { readFileSync, writeFileSync } from 'node:fs';

export const ADOPTED = [
  // Every CLIENT case (RFC 822 name constraints).
  'rfc5280::nc::invalid-email-address',
  'rfc5280::nc::nc-permits-invalid-email-san',
  'rfc5280::nc::nc-permits-email-exact',
  'rfc5280::nc::nc-permits-email-domain',
  'rfc5280::nc::nc-permits-email-literal-asterisk-exact-match',
  'rfc5280::nc::nc-permits-email-literal-asterisk-rejects-user',
  'rfc5280::nc::nc-permits-email-literal-asterisk-rejects-subdomain',
  'rfc5280::nc::nc-permits-email-literal-double-asterisk',
  'rfc5280::nc::nc-permits-email-literal-double-asterisk-rejects-single',
  'rfc5280::nc::nc-permits-email-literal-mid-asterisk',
  // SERVER cases whose leaf tests the leaf itself.
  'rfc5280::eku::ee-wrong-eku',
  'rfc5280::eku::ee-without-eku',
  'rfc5280::eku::ee-eku-empty',
  'webpki::eku::ee-anyeku',
  'webpki::eku::ee-critical-eku',
  'webpki::eku::ee-without-eku',
  'rfc5280::san::malformed',
  'rfc5280::duplicate-extensions',
  'webpki::malformed-aia',
  'rfc5280::ee-critical-aia-invalid',
  'rfc5280::unknown-critical-extension-ee',
  'rfc5280::nc::not-allowed-in-ee-critical',
  'webpki::v1-cert',
  'webpki::ee-basicconstraints-ca',
  'webpki::ca-as-leaf',
  'rfc5280::ca-as-leaf',
  'rfc5280::leaf-ku-keycertsign',
  'pathlen::validation-ignores-pathlen-in-leaf',
  'rfc5280::no-keyusage',
];

const KEPT = [
  'id',
  'description',
  'validation_kind',
  'expected_result',
  'extended_key_usage',
  'expected_peer_names',
  'trusted_certs',
  'untrusted_intermediates',
  'peer_certificate',
  'peer_certificate_key',
];

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/import-x509-limbo.mjs path/to/limbo.json');
  process.exit(2);
}
const limbo = JSON.parse(readFileSync(source, 'utf8'));
const byId = new Map(limbo.testcases.map((t) => [t.id, t]));
const cases = ADOPTED.map((id) => {
  const t = byId.get(id);
  if (!t) throw new Error(`limbo.json has no case ${id}`);
  return Object.fromEntries(KEPT.map((k) => [k, t[k]]));
});
writeFileSync(
  new URL('../test/fixtures/x509-limbo/cases.json', import.meta.url),
  `${JSON.stringify({ source: 'C2SP/x509-limbo (Apache-2.0), compiled limbo.json', limbo_version: limbo.version, testcases: cases }, null, 1)}\n`,
);
console.log(`wrote ${cases.length} cases`);
