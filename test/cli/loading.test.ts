/**
 * `certbound` loads only what the command needs (src/cli/modules.ts): the command tree alone for
 * `--help` and usage errors, the drivers and the store's reads for a listing. Each case runs the
 * command from the sources in a process of its own, with a module hook that records every module URL
 * the process resolves, so a static import of a heavy module anywhere under the command tree shows up here.
 * The installed command runs the esbuild bundle of the CLI (scripts/build-cli.mjs → dist/cli/): the last
 * cases build it from the current sources and check that its chunks keep those loads lazy.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { createTestPki } from '../helpers/pki.js';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string;

/** Records each resolved URL and writes them all to $LOADED_MODULES_FILE when the process exits. */
const recordModules = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from 'node:module';
  import { writeFileSync } from 'node:fs';
  const loaded = new Set();
  registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url); return r; } });
  process.on('exit', () => writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify([...loaded])));
`)}`;

let runs = 0;
/** Runs `certbound …args` from the sources (or `main`: the bundle's entry); its exit code, output and the URLs of the modules it loaded. */
function certbound(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; loaded: string[] }> {
  return run(['--import', 'tsx', '--import', recordModules, 'src/cli/main.ts'], env, args);
}
function run(command: string[], env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string; loaded: string[] }> {
  const file = path.join(dir, `loaded-${++runs}.json`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...command, ...args], { cwd: root, env: { ...process.env, ...env, LOADED_MODULES_FILE: file } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      try {
        resolve({ code, stdout, stderr, loaded: JSON.parse(readFileSync(file, 'utf8')) as string[] });
      } catch (cause) {
        reject(new Error(`certbound ${args.join(' ')} wrote no module list (exit ${code}): ${stderr}`, { cause }));
      }
    });
  });
}

const packagesOf = (loaded: string[]) => [...new Set(loaded.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))].sort();
const sourcesOf = (loaded: string[]) =>
  loaded
    .filter((u) => u.startsWith(`file://${root}/src/`))
    .map((u) => u.slice(`file://${root}/`.length))
    .sort();

/** The server's and the changes' libraries: none of them belongs in the command tree or a listing. */
const SERVER_PACKAGES = ['knex', 'oidc-provider', 'koa', 'undici', 'jose', 'pino', 'prom-client', '@peculiar/x509', '@peculiar/asn1-x509', 'pkijs', 'lodash', 'tarn'];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-cli-loading-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('what a certbound command loads', () => {
  it('is decided in src/cli/modules.ts: no other file of the command imports a module on demand (main.ts only picks the server bundle or the CLI)', () => {
    const cliDir = path.join(root, 'src/cli');
    const onDemand = readdirSync(cliDir)
      .filter((f) => f.endsWith('.ts') && f !== 'modules.ts' && f !== 'main.ts')
      .flatMap((f) =>
        readFileSync(path.join(cliDir, f), 'utf8')
          .split('\n')
          .flatMap((line, i) => (/\bimport\(/.test(line) && !/typeof import\(/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(onDemand).toEqual([]);
    expect(readFileSync(path.join(cliDir, 'modules.ts'), 'utf8')).toMatch(/import\('\.\.\/store\/knex\.js'\)/);
  });

  it('certbound --help loads the command tree only: commander, no knex, oidc-provider, koa, undici, zod or database driver', async () => {
    const help = await certbound({}, '--help');
    expect(help.code).toBe(0);
    for (const command of ['serve', 'migrate', 'dev-pki', 'trust', 'resource', 'client', 'keys', 'audit', 'upstream', 'consent', 'refresh-token', 'doctor', 'certs', 'token'])
      expect(help.stdout).toContain(`  ${command}`);
    expect(packagesOf(help.loaded)).toEqual(['commander']);
    expect(sourcesOf(help.loaded)).toEqual([
      'src/cli/audit-commands.ts',
      'src/cli/authorization-commands.ts',
      'src/cli/client-commands.ts',
      'src/cli/command-context.ts',
      'src/cli/diagnose-commands.ts',
      'src/cli/error-output.ts',
      'src/cli/error-wording.ts',
      'src/cli/index.ts',
      'src/cli/keys-commands.ts',
      'src/cli/main.ts',
      'src/cli/modules.ts',
      'src/cli/registration-commands.ts',
      'src/cli/resource-commands.ts',
      'src/cli/setup-commands.ts',
      'src/cli/token-command.ts',
      'src/cli/trust-commands.ts',
      'src/cli/util.ts',
      'src/errors/index.ts',
      'src/mapping/kinds.ts',
      'src/runtime.ts',
    ]);
  }, 30_000);

  it('a usage error (an unknown option) is answered from the command tree alone, with its hint', async () => {
    const kid = `-${'A'.repeat(42)}`;
    const usage = await certbound({}, 'keys', 'retire', kid);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain(`error: unknown option '${kid}'`);
    expect(usage.stderr).toContain(`put -- before it, as in: certbound keys retire -- ${kid}`);
    expect(packagesOf(usage.loaded)).toEqual(['commander']);
  }, 30_000);

  it('a listing on a PostgreSQL server that does not answer fails once, explained (exit 1), without trying again through knex', async () => {
    const url = `postgres://certbound@127.0.0.1:${await freePort()}/certbound`;
    const list = await certbound({ CERTBOUND_DATABASE_URL: url, CERTBOUND_DATA_DIR: dir }, 'trust', 'list');
    expect(list.code).toBe(1);
    expect(list.stdout).toBe('');
    expect(list.stderr).toMatch(
      /^error: The PostgreSQL database at postgres:\/\/certbound@127\.0\.0\.1:\d+\/certbound is unavailable: connect ECONNREFUSED 127\.0\.0\.1:\d+\.\n {2}→ Check that PostgreSQL is running/,
    );
    expect(packagesOf(list.loaded)).toContain('pg');
    expect(packagesOf(list.loaded)).not.toContain('knex');
  }, 30_000);

  describe('on a database', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
      const pki = await createTestPki('Loading');
      const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
      await admin.addTrustAnchor({ name: 'corp-root', pem: pki.root.pem }, 'test');
      await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'test');
      for (const id of ['billing', 'shipping'])
        await admin.addClient({ clientId: id, mapping: { kind: 'san_dns', value: `${id}.example.com`, trustAnchor: 'corp-root' }, scopes: ['read'] }, 'test');
    });
    afterAll(() => database?.drop());

    it('certbound client list on a current database reads through the driver: no knex, nor any server library', async () => {
      const list = await certbound({ CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: dir }, 'client', 'list');
      expect(list).toMatchObject({ code: 0, stderr: '' });
      expect(list.stdout).toMatch(
        /^CLIENT +METHOD +SCOPES +SUBJECT\nbilling +tls_client_auth +read +san_dns=billing\.example\.com \(trust: corp-root\)\nshipping +tls_client_auth +read +san_dns=shipping\.example\.com \(trust: corp-root\)\n$/,
      );
      const packages = packagesOf(list.loaded);
      expect(packages).toContain(database.database.client === 'pg' ? 'pg' : 'better-sqlite3');
      expect(packages.filter((p) => SERVER_PACKAGES.includes(p))).toEqual([]);
      expect(
        sourcesOf(list.loaded).filter((s) =>
          /^src\/(server|pki|diagnose|verifier)\/|^src\/app\/(service|clients|mappings|trust-anchors|signing-keys|dev-pki|crls|diagnosis)\.ts$|^src\/store\/knex\.ts$/.test(s),
        ),
      ).toEqual([]);
    }, 30_000);

    it('certbound refresh-token list and consent list read through the driver too: no knex, nor any server library', async () => {
      for (const args of [
        ['refresh-token', 'list'],
        ['consent', 'list', '--json'],
      ]) {
        const list = await certbound({ CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: dir }, ...args);
        expect(list, list.stderr).toMatchObject({ code: 0, stderr: '' });
        expect(list.stdout).toMatch(/^(no refresh tokens|\[\])\n$/);
        expect(packagesOf(list.loaded).filter((p) => SERVER_PACKAGES.includes(p))).toEqual([]);
        expect(sourcesOf(list.loaded).filter((s) => /^src\/(server|pki)\/|^src\/app\/(service|clients|upstream)\.ts$|^src\/store\/knex\.ts$/.test(s))).toEqual([]);
      }
    }, 30_000);

    describe('the installed command: the CLI bundle (scripts/build-cli.mjs)', () => {
      let bundleDir: string | undefined;
      let meta: { outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown>; imports: { path: string; external?: boolean }[] }> };
      beforeAll(async () => {
        // Inside the project, as dist/cli is: the bundle finds its external packages in node_modules.
        bundleDir = mkdtempSync(path.join(root, '.test-bundle-cli-'));
        const metafile = path.join(dir, 'cli-meta.json');
        await promisify(execFile)(process.execPath, [path.join(root, 'scripts/build-cli.mjs'), '--outdir', bundleDir, '--metafile', metafile], { cwd: root });
        meta = JSON.parse(readFileSync(metafile, 'utf8'));
      }, 60_000);
      afterAll(() => {
        if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
      });
      const bundled = (...args: string[]) =>
        run(['--import', recordModules, path.join(bundleDir!, 'main.js')], { CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: dir }, args);
      /** What the chunks a run loaded were built from: src/ files and node_modules/ files, by esbuild's metafile. */
      const inputsOf = (loaded: string[]) => {
        const chunks = loaded.filter((u) => u.startsWith(`file://${bundleDir}/`)).map((u) => path.relative(root, fileURLToPath(u)));
        expect(chunks.filter((c) => !meta.outputs[c])).toEqual([]);
        return chunks.flatMap((c) => Object.keys(meta.outputs[c]!.inputs));
      };

      it('certbound --help loads the chunks of the command tree only: no configuration, store or zod, and nothing from node_modules', async () => {
        const help = await bundled('--help');
        expect(help).toMatchObject({ code: 0, stderr: '' });
        expect(help.stdout).toContain('  client');
        const inputs = inputsOf(help.loaded);
        expect(inputs).toContain('src/cli/index.ts');
        expect(inputs.filter((i) => /^src\/(config|store|app)\/|node_modules\/zod\//.test(i))).toEqual([]);
        expect(packagesOf(help.loaded)).toEqual([]);
      }, 30_000);

      it('certbound client list loads the configuration, the driver and the reads, none of the server or change code, and of zod no locale but English', async () => {
        const list = await bundled('client', 'list');
        expect(list).toMatchObject({ code: 0, stderr: '' });
        expect(list.stdout).toMatch(/^CLIENT +METHOD +SCOPES +SUBJECT\nbilling .*\nshipping .*\n$/);
        const inputs = inputsOf(list.loaded);
        for (const file of ['src/config/schema.ts', 'src/store/driver.ts', 'src/app/queries.ts']) expect(inputs).toContain(file);
        expect(
          inputs.filter((i) =>
            /^src\/(server|pki|diagnose|verifier)\/|^src\/app\/(service|clients|mappings|trust-anchors|signing-keys|dev-pki|crls|diagnosis)\.ts$|^src\/store\/knex\.ts$|node_modules\/(pkijs|@peculiar)\//.test(
              i,
            ),
          ),
        ).toEqual([]);
        expect(inputs.filter((i) => i.includes('node_modules/zod/v4/locales/'))).toEqual(['node_modules/zod/v4/locales/en.js']);
        expect(packagesOf(list.loaded).filter((p) => SERVER_PACKAGES.includes(p))).toEqual([]);
      }, 30_000);

      it('certbound serve alone runs the server bundle (dist/server/serve.js), which the CLI bundle does not contain', () => {
        const entry = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === 'src/cli/main.ts');
        const external = entry![1].imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => path.resolve(root, path.dirname(entry![0]), i.path));
        expect(external).toEqual([path.join(root, 'dist/server/serve.js')]);
      });
    });

    it('a listing on a database that is not current migrates it first, as every command does (through knex, then)', async () => {
      await database.db('knex_migrations').where({ name: '20261128000005_subject_dn_refold' }).delete();
      const list = await certbound({ CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: dir }, 'client', 'list', '--json');
      expect(list).toMatchObject({ code: 0, stderr: '' });
      expect((JSON.parse(list.stdout) as { client_id: string }[]).map((c) => c.client_id)).toEqual(['billing', 'shipping']);
      expect(packagesOf(list.loaded)).toContain('knex');
      expect(await database.db('knex_migrations').where({ name: '20261128000005_subject_dn_refold' }).first()).toBeTruthy();
    }, 30_000);
  });
});
