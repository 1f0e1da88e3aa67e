/**
 * `certbound token` as a real process against the real certbound server: the token alone on stdout,
 * the --json form, and a refusal on stderr with the OAuth error, its ref and the doctor hint. The
 * process gets no certbound configuration at all (a configuration file that does not exist, no database).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://demo-api.certbound.test';
const ROOT = path.resolve(import.meta.dirname, '../../..');
let s: TestServer;
let dir: string;
let app: Issued;

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs `certbound token …` in its own process, without any certbound configuration. */
function certboundToken(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: dir, CERTBOUND_CONFIG: path.join(dir, 'no-such-config.yaml'), CERTBOUND_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'token', ...args], { cwd: ROOT, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

beforeAll(async () => {
  s = await startTestServer();
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-token-cmd-'));
  await s.admin.addResourceServer({ identifier: API, scopes: ['demo.read', 'demo.write'] }, 'test');
  await s.admin.addClient({ clientId: 'app', mapping: { kind: 'san_dns', value: 'app.example.com' }, scopes: ['demo.read', 'demo.write'], defaultResource: API }, 'test');
  app = await s.pki.client({ subject: [{ CN: ['app'] }], san: [{ type: 'dns', value: 'app.example.com' }] });
  write('app.pem', s.pki.chainOf(app));
  write('app.key', app.keyPem);
  write('ca.pem', s.pki.root.pem);
});
afterAll(() => s?.close());

const base = () => ['--issuer', s.issuer, '--client-id', 'app', '--cert', path.join(dir, 'app.pem'), '--key', path.join(dir, 'app.key'), '--ca', path.join(dir, 'ca.pem')];

describe('certbound token', () => {
  it('BT-8/BT-9: prints the bound access token alone on stdout', async () => {
    const r = await certboundToken(...base(), '--resource', API, '--scope', 'demo.read');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await expectIssuedToken(
      s,
      { status: 200, body: { access_token: r.out.trim(), token_type: 'Bearer', scope: 'demo.read' } },
      { clientId: 'app', presented: app, scopes: ['demo.read'], aud: API },
    );
  });

  it('--json prints access_token, token_type, expires_in, scope and cnf_x5t_s256', async () => {
    const r = await certboundToken(...base(), '--scope', 'demo.write demo.read', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json).sort()).toEqual(['access_token', 'cnf_x5t_s256', 'expires_in', 'scope', 'token_type']);
    expect(json).toMatchObject({ token_type: 'Bearer', cnf_x5t_s256: x5tS256(app.der) });
    expect(json.scope.split(' ').sort()).toEqual(['demo.read', 'demo.write']);
    const claims = decodeJwt(json.access_token);
    expect(json.expires_in).toBe(Number(claims.exp) - Number(claims.iat));
    expect(claims.cnf).toEqual({ 'x5t#S256': x5tS256(app.der) });
  });

  it('G-5/H15-10: a refusal exits 1 with the OAuth error, the description with its ref, and the doctor hint on stderr', async () => {
    const stranger = await s.pki.client({ subject: [{ CN: ['stranger'] }], san: [{ type: 'dns', value: 'stranger.example.com' }] });
    const strangerCert = write('stranger.pem', s.pki.chainOf(stranger));
    write('stranger.key', stranger.keyPem);
    const r = await certboundToken(...base().map((a) => a.replace(/app\.(pem|key)$/, 'stranger.$1')));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('  error: invalid_client\n');
    const ref = /\(ref ([0-9a-f]{8})\)/.exec(r.err)?.[1];
    expect(ref, r.err).toBeDefined();
    expect(r.err).toMatch(new RegExp(`error_description: .*\\(ref ${ref}\\)`));
    expect(s.logs.some((line) => line.ref === ref)).toBe(true);
    expect(r.err).toContain(`certbound doctor --cert ${strangerCert} --client-id app`);
  });

  it('bad input exits 2 and names the file: an unreadable key', async () => {
    const r = await certboundToken(...base().map((a) => (a.endsWith('app.key') ? path.join(dir, 'missing.key') : a)));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cannot read the key file ${path.join(dir, 'missing.key')}`);
    expect(r.out).toBe('');
  });
});
