/**
 * The error catalog (src/errors/catalog) stays honest against the code: every code string src/ throws,
 * returns as a refusal reason or sends in a body is in it, every entry is used somewhere, the statuses
 * agree with the error classes that throw them, and the modules that hand out default hints read them
 * from it (fastify's error-catalog meta-test).
 */
import { describe, expect, it } from 'vitest';
import { CERTIFICATE_CODE_PRECEDENCE, DIAGNOSIS_CODES } from '../../src/diagnose/index.js';
import {
  CATALOG,
  CATALOG_GROUPS,
  CERTIFICATE_REASON_CODES,
  CLIENT_REASON_CODES,
  catalogEntry,
  MAPPING_REASON_CODES,
  OAUTH_ERRORS,
  VERIFIER_CODES,
} from '../../src/errors/catalog/index.js';
import { MAPPING_REASONS } from '../../src/mapping/index.js';
import { callsOf, lineAt, sourceFiles } from './source.js';

/** src/ without the catalog itself: where a code counts as used. */
const files = sourceFiles().filter((f) => !f.path.startsWith('src/errors/catalog/'));

/**
 * Upper-case strings in src/ that are other systems' codes, which certbound reads but never sends:
 * environment variables, OpenSSL's verify errors, Node's, SQLite's, jose's and openid-client's error codes, Envoy's setting.
 */
const FOREIGN_PREFIXES = ['CERTBOUND_', 'SQLITE_', 'ERR_JWT_', 'ERR_JWS_', 'ERR_JOSE_', 'UNABLE_TO_', 'OAUTH_'];
const FOREIGN = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'CRL_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'INVALID_PURPOSE',
  'ERR_MODULE_NOT_FOUND',
  'EAI_AGAIN',
  'SANITIZE_SET',
  // A prefix test in pki/dn.ts (`code.startsWith('ERR_CERT')`), not a code.
  'ERR_CERT',
]);
const isForeign = (s: string) => FOREIGN.has(s) || FOREIGN_PREFIXES.some((p) => s.startsWith(p));

/** OAuth errors oidc-provider answers with on its own (no string or error class of it in src/). */
const ANSWERED_BY_OIDC_PROVIDER = new Set(['invalid_grant']);

const CODE_LITERAL = /(['"`])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\1/g;

function usedIn(code: string): boolean {
  const quoted = new RegExp(`(['"\`])${code}\\1`);
  if (files.some((f) => quoted.test(f.code))) return true;
  // oidc-provider's error classes carry the OAuth code: errors.InvalidTarget is invalid_target.
  const errorClass = `errors.${code.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}`;
  return code in OAUTH_ERRORS && files.some((f) => f.code.includes(errorClass));
}

describe('error catalog', () => {
  it('holds each code once, in exactly one group, with a meaning, a hint and at least one surface', () => {
    const all = Object.values(CATALOG_GROUPS).flatMap((g) => Object.keys(g));
    expect(all.length).toBe(new Set(all).size);
    expect(Object.keys(CATALOG).sort()).toEqual([...all].sort());
    for (const [code, entry] of Object.entries(CATALOG)) {
      expect(entry.meaning.trim(), code).not.toBe('');
      expect(entry.hint.trim(), code).not.toBe('');
      expect(entry.surfaces.length, code).toBeGreaterThan(0);
      if (entry.status !== undefined) expect(entry.status >= 400 && entry.status < 600, code).toBe(true);
    }
    expect(catalogEntry('SAN_MISMATCH')?.status).toBe(401);
    expect(catalogEntry('toString')).toBeUndefined();
  });

  it('names its codes in their family style: ERR_* for errors, UPPER_SNAKE reasons, lower_snake OAuth errors', () => {
    for (const code of Object.keys(OAUTH_ERRORS)) expect(code).toMatch(/^[a-z]+(_[a-z]+)+$/);
    for (const [group, entries] of Object.entries(CATALOG_GROUPS)) {
      if (group === 'oauth') continue;
      for (const code of Object.keys(entries)) expect(code, group).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    }
    for (const group of ['startup', 'administration', 'cli', 'admin-api', 'certificates', 'verifier'] as const) {
      for (const code of Object.keys(CATALOG_GROUPS[group])) expect(code, group).toMatch(/^ERR_/);
    }
  });

  it('lists every code string src/ uses (thrown, returned as a refusal reason, or sent in a body)', () => {
    const unknown: string[] = [];
    for (const f of files) {
      for (const m of f.code.matchAll(CODE_LITERAL)) {
        const code = m[2]!;
        if (!isForeign(code) && catalogEntry(code) === undefined) unknown.push(`${f.path}:${lineAt(f.code, m.index)}: ${code}`);
      }
    }
    expect(unknown, "add these codes to src/errors/catalog (or, if they are another system's, to FOREIGN here)").toEqual([]);
  });

  it('has no entry that src/ never uses', () => {
    const unused = Object.keys(CATALOG).filter((code) => !ANSWERED_BY_OIDC_PROVIDER.has(code) && !usedIn(code));
    expect(unused).toEqual([]);
  });

  it('gives the status the error classes throw with: InvalidInputError 400, NotFoundError 404, ConflictError 409, CertboundError its status', () => {
    const CLASS_STATUS: Record<string, number> = { InvalidInputError: 400, NotFoundError: 404, ConflictError: 409 };
    const disagree: string[] = [];
    for (const f of files) {
      for (const m of f.code.matchAll(/new (InvalidInputError|NotFoundError|ConflictError)\(\s*'(ERR_\w+)'/g)) {
        const status = catalogEntry(m[2]!)?.status;
        if (status !== CLASS_STATUS[m[1]!]) disagree.push(`${f.path}:${lineAt(f.code, m.index)}: ${m[2]} is a ${m[1]} (${CLASS_STATUS[m[1]!]}), the catalog says ${status}`);
      }
      for (const call of callsOf(f.code, /new CertboundError/)) {
        const m = /^\s*'(ERR_\w+)'[\s\S]*?\bstatus:\s*(\d{3})\b/.exec(call.text);
        if (!m) continue;
        const status = catalogEntry(m[1]!)?.status;
        // Codes without an HTTP answer (start-up, the CLI) carry an internal status the catalog leaves out.
        if (status !== undefined && status !== Number(m[2])) disagree.push(`${f.path}:${lineAt(f.code, call.at)}: ${m[1]} is thrown with ${m[2]}, the catalog says ${status}`);
      }
    }
    expect(disagree).toEqual([]);
  });

  it("gives the verifier's codes the status and RFC 6750 error the verifier answers with", () => {
    const verifier = sourceFiles('src/verifier');
    const disagree: string[] = [];
    let seen = 0;
    for (const f of verifier) {
      for (const m of f.code.matchAll(/fail\('(ERR_VERIFIER_\w+)', (\d{3}), (undefined|'(\w+)')/g)) {
        seen++;
        const entry = VERIFIER_CODES[m[1] as keyof typeof VERIFIER_CODES];
        if (entry.status !== Number(m[2]) || (entry as { oauthError?: string }).oauthError !== m[4]) disagree.push(`${f.path}: ${m[1]} answers ${m[2]} ${m[4]}`);
      }
    }
    expect(seen).toBeGreaterThan(3);
    expect(disagree).toEqual([]);
  });

  it('is where the diagnosis and the mapping rules take their reason codes and hints from', () => {
    expect(MAPPING_REASONS).toEqual(Object.fromEntries(Object.entries(MAPPING_REASON_CODES).map(([c, e]) => [c, e.hint])));
    const diagnosis = { ...MAPPING_REASON_CODES, ...CERTIFICATE_REASON_CODES, ...CLIENT_REASON_CODES };
    expect(DIAGNOSIS_CODES).toEqual(Object.fromEntries(Object.entries(diagnosis).map(([c, e]) => [c, e.hint])));
    // The precedence orders exactly the certificate codes, and the catalog (so the page) lists them in that order.
    expect([...CERTIFICATE_CODE_PRECEDENCE]).toEqual(Object.keys(CERTIFICATE_REASON_CODES));
  });

  it('is loaded by neither certbound/verifier nor certbound/client: they import its types only', () => {
    const valueImports = [...sourceFiles('src/verifier'), ...sourceFiles('src/client')].flatMap((f) =>
      [...f.code.matchAll(/^import\s+(?!type\b)[^;]*from\s+'[./]*errors\/catalog\/[^']*'/gm)].map((m) => `${f.path}: ${m[0]}`),
    );
    expect(valueImports).toEqual([]);
  });
});
