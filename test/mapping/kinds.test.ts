/**
 * The mapping kinds have one definition (src/mapping/kinds.ts), and every surface takes its kinds from it:
 * each kind there is accepted by the CLI, the admin API's schema, the use cases and the store, the
 * matcher, the diagnosis and the client metadata the server publishes; and no other file in src/ spells
 * the list of kinds itself. Adding a kind is an entry there (plus the code the compiler then asks for)
 * and a sample GeneralName for this test's certificate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { MappingInputSchema } from '../../src/admin-api/schemas.js';
import { mappingValueFromCertificate } from '../../src/app/mapping-from-cert.js';
import { createAdminService } from '../../src/app/service.js';
import { buildCli } from '../../src/cli/index.js';
import { candidateMappingKeys } from '../../src/diagnose/candidates.js';
import { MAPPING_KIND_DEFINITIONS, MAPPING_KINDS, type MappingKind, MATCH_KINDS, matchCertificateToClient, SAN_KINDS } from '../../src/mapping/index.js';
import { canonicalizeMappingValue, type ParsedCertificate, parseCertificate } from '../../src/pki/index.js';
import { toClientMetadata } from '../../src/server/client-metadata.js';
import { clients } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createTestPki, type SanSpec } from '../helpers/pki.js';

const root = path.resolve(import.meta.dirname, '../..');

/** How this test's certificate carries a SAN of each GeneralName type (@peculiar/x509's names for them). */
const SAN_SPEC_TYPE: Record<string, SanSpec['type']> = { dNSName: 'dns', uniformResourceIdentifier: 'url', iPAddress: 'ip', rfc822Name: 'email' };

let database: TestDatabase;
let pem: string;
let cert: ParsedCertificate;

beforeAll(async () => {
  database = await createTestDatabase();
  const pki = await createTestPki('Kinds');
  // The example subject in DER order (RFC 4514 writes the most specific RDN first).
  const rdns = MAPPING_KIND_DEFINITIONS.subject_dn.example.split(',').map((rdn) => {
    const [type, value] = rdn.split('=') as [string, string];
    return { [type]: [value] };
  });
  const san = SAN_KINDS.map((kind) => {
    const { generalName, example } = MAPPING_KIND_DEFINITIONS[kind];
    const type = SAN_SPEC_TYPE[generalName!.name];
    if (!type) throw new Error(`this test cannot yet put a ${generalName!.name} in a certificate: add it to SAN_SPEC_TYPE`);
    return { type, value: example };
  });
  const issued = await pki.client({ subject: rdns.reverse(), san });
  pem = issued.pem;
  cert = parseCertificate(issued.der);
});
afterAll(() => database?.drop());

/** The long option names of a subcommand, e.g. optionsOf(['client', 'add']). */
function optionsOf(names: string[]): string[] {
  let command: Command = buildCli({}, { out: () => {}, err: () => {} });
  for (const name of names) command = command.commands.find((c) => c.name() === name)!;
  return command.options.map((o) => o.long ?? '');
}

describe('one definition of a mapping kind', () => {
  it('names each kind once: its metadata member, its CLI option, its --match value and its GeneralName tag are its own', () => {
    const unique = (values: unknown[]) => expect(new Set(values).size).toBe(values.length);
    unique(MAPPING_KINDS.map((k) => MAPPING_KIND_DEFINITIONS[k].metadataMember));
    unique(MAPPING_KINDS.map((k) => MAPPING_KIND_DEFINITIONS[k].cliFlag));
    unique(SAN_KINDS.map((k) => MAPPING_KIND_DEFINITIONS[k].generalName!.tag));
    expect(Object.values(MATCH_KINDS)).toEqual(MAPPING_KINDS);
    for (const kind of MAPPING_KINDS) expect(MAPPING_KIND_DEFINITIONS[kind].metadataMember).toBe(`tls_client_auth_${kind}`);
  });

  it.each(MAPPING_KINDS)('MD-3..MD-7: %s is an option of client add and client mapping add, and a --match value that reads the certificate', (kind) => {
    const { cliFlag, example } = MAPPING_KIND_DEFINITIONS[kind];
    expect(optionsOf(['client', 'add'])).toContain(cliFlag);
    expect(optionsOf(['client', 'mapping', 'add'])).toContain(cliFlag);
    expect(mappingValueFromCertificate(pem, cliFlag.slice(2))).toEqual({ kind, value: example });
  });

  it.each(MAPPING_KINDS)('MD-3..MD-7: the admin API schema accepts %s (and the OpenAPI text names its metadata member)', (kind) => {
    const { example, metadataMember } = MAPPING_KIND_DEFINITIONS[kind];
    expect(MappingInputSchema.parse({ kind, value: example })).toMatchObject({ kind, value: example });
    expect(MappingInputSchema.shape.kind.description).toContain(metadataMember);
  });

  it('the admin API schema refuses a kind the definition does not have', () => {
    expect(MappingInputSchema.safeParse({ kind: 'san_registered_id', value: '1.2.3' }).success).toBe(false);
  });

  it.each(MAPPING_KINDS)('MD-8: %s is stored, found by its canonical value, matched, diagnosed and published as its metadata member', async (kind) => {
    const { example, metadataMember } = MAPPING_KIND_DEFINITIONS[kind];
    const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
    const clientId = `kinds-${kind}`;
    await admin.addClient({ clientId, mapping: { kind, value: example, allowOverlap: true }, scopes: [] }, 'test');
    const canonical = canonicalizeMappingValue(kind, example);
    expect((await clients.findMappingsByCanonical(database.db, kind, canonical)).map((m) => m.clientId)).toEqual([clientId]);
    const record = (await clients.find(database.db, clientId))!;
    expect(record.mappings.map((m) => m.kind)).toEqual([kind]);
    expect(matchCertificateToClient(cert, record.mappings, { now: new Date() })).toMatchObject({ matched: true });
    expect(candidateMappingKeys(cert)).toContainEqual({ kind, canonical });
    expect(toClientMetadata(record)[metadataMember]).toBe(example);
  });

  it('no other file in src/ spells the list of kinds (three kinds or more within a few lines, in any spelling)', () => {
    // The canonical-form rules are code per kind, in tables the compiler keeps complete for every kind.
    const allowed = ['src/mapping/kinds.ts', 'src/pki/san.ts'];
    const spellings = MAPPING_KINDS.map((kind: MappingKind) => {
      const [first, second] = kind.split('_') as [string, string];
      const camel = `${first}${second[0]!.toUpperCase()}${second.slice(1)}`;
      return new RegExp(`(?<![A-Za-z])(?:${kind}|${first}-${second}|${camel})(?![A-Za-z])`);
    });
    const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .map((f) => path.join('src', f))
      .filter((f) => f.endsWith('.ts') && statSync(path.join(root, f)).isFile() && !allowed.includes(f));
    const WINDOW = 6;
    const lists: string[] = [];
    for (const file of files) {
      const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const text = lines.slice(i, i + WINDOW).join('\n');
        const kinds = spellings.filter((re) => re.test(text)).length;
        if (kinds >= 3) {
          lists.push(`${file}:${i + 1}`);
          i += WINDOW - 1;
        }
      }
    }
    expect(lists).toEqual([]);
  });
});
