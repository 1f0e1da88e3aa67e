/**
 * CLI commands for diagnosis, expiry and revocation: `certbound doctor`, `certbound certs expiring`,
 * `certbound trust crl add|list|remove|refresh`, and the `--from-cert` / `--allow-overlap` mapping options.
 * Registered on the program by `buildCli` (one line there), so this file can grow on its own.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { createCrlService } from '../app/crls.js';
import type { Config } from '../config/index.js';
import { CertboundError, InvalidInputError } from '../errors/index.js';
import { cliActor, readFileArg, withDatabase } from './util.js';
import { table } from './command-context.js';
import { load } from './modules.js';
import type * as Pki from '../pki/index.js';
import { type MappingKind, MATCH_KINDS } from '../mapping/kinds.js';
import type { Db } from '../store/index.js';

interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Thrown to end the command with an exit status and no error message (e.g. doctor: would not authenticate). */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

/** `certbound doctor` exit status when the certificate would not authenticate (2 stays "bad input"). */
export const DOCTOR_REFUSED_EXIT = 1;

/** doctor's verdict on a certificate certbound's strict parser refuses (see {@link strictParseRefusal}). */
interface StrictParseRefusal {
  diagnosis_version: 1;
  now: string;
  would_authenticate: false;
  code: string;
  message: string;
  hint: string | null;
  /** Null: the certificate could not be parsed; `x5t#S256` is the thumbprint the refusal log line shows. */
  certificate: null;
  'x5t#S256': string;
  /** As OpenSSL reads them, to recognise the certificate. */
  openssl: { subject: string; issuer: string };
}

/**
 * A certificate that a TLS stack reads (a client can present it) but certbound's strict parser refuses
 * (two SAN or EKU extensions, a SAN that is not GeneralNames, ...) is refused at the token endpoint on
 * every path, with the parser's code as the reason of its log line: doctor gives that verdict (exit 1)
 * rather than calling the file bad input. Undefined when the certificate parses, or when OpenSSL cannot
 * read it either (then it is not a certificate a client could use: bad input, exit 2).
 */
function strictParseRefusal(der: Buffer, now: Date, pki: Pick<typeof Pki, 'parseCertificate' | 'x5tS256'>): StrictParseRefusal | undefined {
  const { parseCertificate, x5tS256 } = pki;
  let openssl: X509Certificate;
  try {
    openssl = new X509Certificate(der);
  } catch {
    return undefined;
  }
  try {
    parseCertificate(der);
    return undefined;
  } catch (err) {
    if (!(err instanceof CertboundError)) throw err;
    return {
      diagnosis_version: 1,
      now: now.toISOString(),
      would_authenticate: false,
      code: err.code,
      message: err.message,
      hint: err.hint ?? null,
      certificate: null,
      'x5t#S256': x5tS256(der),
      openssl: { subject: openssl.subject.replace(/\n/g, ', '), issuer: openssl.issuer.replace(/\n/g, ', ') },
    };
  }
}

function formatStrictParseRefusal(r: StrictParseRefusal): string {
  return [
    `REFUSED: ${r.code}`,
    `  ${r.message}`,
    ...(r.hint ? [`  → ${r.hint}`] : []),
    '',
    'The certificate, as OpenSSL reads it (certbound does not parse it):',
    `subject     ${r.openssl.subject || '(empty)'}`,
    `issuer      ${r.openssl.issuer || '(empty)'}`,
    `x5t#S256    ${r['x5t#S256']}`,
  ].join('\n');
}

/**
 * The mapping chosen with `--from-cert FILE --match KIND [--value V]`, or undefined when `--from-cert`
 * is absent. Used by `client add` and `client mapping add`.
 */
export async function mappingFromCertOptions(opts: Record<string, unknown>): Promise<{ kind: MappingKind; value: string } | undefined> {
  const file = opts.fromCert;
  if (typeof file !== 'string') {
    if (opts.match !== undefined || opts.value !== undefined) {
      throw new InvalidInputError('ERR_FROM_CERT_REQUIRED', '--match and --value go with --from-cert FILE.', { hint: 'e.g. --from-cert client.pem --match subject-dn' });
    }
    return undefined;
  }
  if (typeof opts.match !== 'string') {
    throw new InvalidInputError('ERR_MATCH_REQUIRED', '--from-cert needs --match: which value of the certificate identifies the client.', {
      hint: `--match ${Object.keys(MATCH_KINDS).join('|')}`,
    });
  }
  const pem = readFileArg(file, '--from-cert');
  const { mappingValueFromCertificate } = await load.mappingFromCert();
  return mappingValueFromCertificate(pem, opts.match, typeof opts.value === 'string' ? opts.value : undefined);
}

/** The `--from-cert` family and `--allow-overlap`, added to `client add` and `client mapping add`. */
export function addMappingSourceOptions(command: Command): Command {
  return command
    .option('--from-cert <file>', 'read the mapping value from this certificate (PEM) instead of typing it; DNs are stored in RFC 4514 order')
    .addOption(new Option('--match <kind>', 'with --from-cert: which value identifies the client').choices(Object.keys(MATCH_KINDS)))
    .option('--value <value>', 'with --from-cert: the SAN to use when the certificate has several of that kind')
    .option('--allow-overlap', 'allow a mapping that lets one certificate authenticate as another client too');
}

/**
 * Registers `doctor`, `certs expiring` and `trust crl …` on the program.
 *
 * @example
 * registerDiagnosisCommands(program, { env: process.env, io });
 */
export function registerDiagnosisCommands(program: Command, { env, io }: { env: Readonly<Record<string, string | undefined>>; io: Io }): void {
  const withDb = <T>(fn: (db: Db, cfg: Config) => Promise<T>): Promise<T> => withDatabase(env, fn);
  const withCrls = async <T>(fn: (service: ReturnType<typeof createCrlService>) => Promise<T>): Promise<T> => {
    const { createCrlService } = await load.crls();
    return withDb((db) => fn(createCrlService({ db })));
  };

  program
    .command('doctor')
    .description(
      'explain whether a client certificate would authenticate, and if not, why and what to do: subject, SANs, validity, chain against the trust anchors, revocation, the clients it maps to. Exit 0: it would authenticate; 1: it would not; 2: bad input.',
    )
    .requiredOption('--cert <file>', 'the client certificate (PEM); further certificates in the file are taken as its chain')
    .option('--chain <file>', 'the intermediates the client sends (PEM), if not in --cert')
    .option('--client-id <id>', 'compare with this client: each of its mappings, field by field')
    .option('--at <date>', 'diagnose as of this time (ISO 8601) instead of now')
    .option('--json', 'the diagnosis as JSON (stable fields, diagnosis_version 1)')
    .action(async (opts: { cert: string; chain?: string; clientId?: string; at?: string; json?: boolean }) => {
      const certPem = readFileArg(opts.cert, '--cert');
      const { diagnoseFromStore, formatDiagnosis, parsePemCertificates, parseCertificate, x5tS256 } = await load.diagnosis();
      const [leaf, ...rest] = parsePemCertificates(certPem);
      const chain = [...rest, ...(opts.chain ? parsePemCertificates(readFileArg(opts.chain, '--chain')) : [])];
      let now = new Date();
      if (opts.at !== undefined) {
        now = new Date(opts.at);
        if (Number.isNaN(now.getTime())) throw new InvalidInputError('ERR_DATE_INVALID', `--at "${opts.at}" is not a date`, { hint: 'Use ISO 8601, e.g. 2027-01-31T12:00:00Z.' });
      }
      const refused = strictParseRefusal(leaf!, now, { parseCertificate, x5tS256 });
      if (refused) {
        io.out(opts.json ? JSON.stringify(refused, null, 2) : formatStrictParseRefusal(refused));
        throw new CliExit(DOCTOR_REFUSED_EXIT);
      }
      const d = await withDb((db, cfg) =>
        diagnoseFromStore(db, {
          leaf: leaf!,
          chain,
          clientId: opts.clientId,
          now,
          crlStale: cfg.crlStale,
          // SS-4: a client that publishes its certificates is diagnosed against what its jwks_uri serves now.
          publishedKeys: async (_clientId, uri) => {
            const { fetchJwksUriOnce, validateSelfSignedJwks } = await load.jwksUri();
            // A failure is thrown: the diagnosis names it next to the client.
            return fetchJwksUriOnce(uri, {
              ca: cfg.outboundCaFile ? readFileSync(cfg.outboundCaFile, 'utf8') : undefined,
              allowedRanges: cfg.jwksUriAllowedRanges,
              validate: validateSelfSignedJwks,
            });
          },
        }),
      );
      io.out(opts.json ? JSON.stringify(d, null, 2) : formatDiagnosis(d));
      if (!d.would_authenticate) throw new CliExit(DOCTOR_REFUSED_EXIT);
    });

  const certs = program.command('certs').description('client certificates as seen by the server');
  certs
    .command('expiring')
    .description('clients whose last-seen certificate ends within the window, and mappings that end within it')
    .option('--within <duration>', 'window, e.g. 30d, 12h, 2w', '30d')
    .option('--json', 'JSON output')
    .action(async (opts: { within: string; json?: boolean }) => {
      const { expiringReport, parseWindow } = await load.expiry();
      const withinMs = parseWindow(opts.within);
      const report = await withDb((db) => expiringReport(db, { withinMs }));
      if (opts.json) {
        io.out(JSON.stringify(report, null, 2));
        return;
      }
      const when = (days: number, expired: boolean) => (expired ? `expired ${-days}d ago` : `in ${days}d`);
      const lines: string[] = [];
      lines.push(
        report.certificates.length
          ? `Client certificates ending by ${report.until}:\n${table([['CLIENT', 'NOT AFTER', 'ENDS', 'SUBJECT', 'LAST SEEN'], ...report.certificates.map((c) => [c.client_id, c.not_after, when(c.days_remaining, c.expired), c.subject, c.last_seen])])}`
          : `No client's last-seen certificate ends by ${report.until}.`,
      );
      lines.push(
        report.mappings.length
          ? `Mappings ending by ${report.until}:\n${table([['CLIENT', 'MAPPING', 'VALUE', 'NOT AFTER', 'ENDS', 'REPLACED BY'], ...report.mappings.map((m) => [m.client_id, m.mapping_id, `${m.kind}=${m.value}`, m.not_after, when(m.days_remaining, m.expired), m.replaced_by ?? '-'])])}`
          : `No mapping ends by ${report.until}.`,
      );
      io.out(lines.join('\n\n'));
    });

  const trust = program.commands.find((c) => c.name() === 'trust') ?? program.command('trust').description('manage trust anchors');
  const crl = trust.command('crl').description("certificate revocation lists of a trust anchor's PKI (checked in the TLS handshake; see docs/revocation.md)");
  crl
    .command('add <anchor>')
    .description("add a CRL source for a CA of this anchor's PKI; it is fetched and verified now, then refreshed by the server before its nextUpdate")
    .option('--file <path>', 'CRL file (PEM or DER) on the server host')
    .option('--url <url>', 'CRL URL (http or https)')
    .option('--issuer-cert <file>', 'the CA that signs the CRL when it is not the anchor (PEM, followed by any CAs up to the anchor)')
    .action(async (anchor: string, opts: { file?: string; url?: string; issuerCert?: string }) => {
      const issuerPem = opts.issuerCert ? readFileArg(opts.issuerCert, '--issuer-cert') : undefined;
      const record = await withCrls((service) => service.addCrl({ anchor, file: opts.file, url: opts.url, issuerPem }, cliActor()));
      io.out(
        `added CRL ${record.id} to ${anchor}: issuer ${record.issuerSubject}, ${record.revokedCount} revoked, next update ${record.nextUpdate?.toISOString() ?? 'none'}. CRL checking is now on for every trust anchor: each CA in a client chain needs a current CRL.`,
      );
    });
  crl
    .command('list')
    .description('list CRLs with their freshness')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withCrls(async (service) => (await service.listCrls()).map(service.describe));
      if (opts.json) {
        io.out(JSON.stringify(list, null, 2));
        return;
      }
      const now = Date.now();
      io.out(
        list.length
          ? table([
              ['ID', 'ANCHOR', 'ISSUER', 'REVOKED', 'NEXT UPDATE', 'SOURCE', 'LAST ERROR'],
              ...list.map((c) => [
                c.id,
                c.anchor,
                c.issuer,
                String(c.revoked),
                `${c.next_update ?? 'none'}${c.next_update && Date.parse(c.next_update) < now ? ' (STALE)' : ''}`,
                c.source,
                c.last_error ?? '-',
              ]),
            ])
          : 'no CRLs (revocation is not checked)',
      );
    });
  crl
    .command('remove <anchor> <id>')
    .description('remove a CRL source')
    .action(async (anchor: string, id: string) => {
      await withCrls((service) => service.removeCrl(anchor, id, cliActor()));
      io.out(`removed CRL ${id} from ${anchor}`);
    });
  crl
    .command('refresh')
    .description('fetch every CRL again now (servers do this on their own before nextUpdate)')
    .action(async () => {
      const results = await withCrls(async (service) => {
        const out: string[] = [];
        for (const record of await service.listCrls()) {
          try {
            out.push(`${record.id} ${record.issuerSubject}: ${await service.refreshCrl(record)}`);
          } catch (err) {
            out.push(`${record.id} ${record.issuerSubject}: failed: ${(err as Error).message}`);
          }
        }
        return out;
      });
      io.out(results.join('\n') || 'no CRLs');
    });
}
