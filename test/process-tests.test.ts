/**
 * The quick loop starts no processes: a test file that does (it, or a module of its own folder it
 * imports, uses node:child_process, playwright-core (a browser) or the child-process configuration loader, or it calls a helper that
 * starts nginx or a private PostgreSQL) is listed in test/process-tests.ts, and every listed file does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProcessTest, PROCESS_TESTS } from './process-tests.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const SPAWNS = /'node:child_process'|'playwright-core'|\bloadConfigIsolated\b/;
/** The helpers of test/helpers/ that start a process, and how they are called. */
const HELPER_STARTERS: Record<string, RegExp> = {
  'test/helpers/nginx.ts': /\b(startNginx|ensureNginx)\(/,
  'test/helpers/private-pg.ts': /\bstartPrivatePostgres\(/,
};

const SELF = 'test/process-tests.test.ts'; // names the patterns without starting anything
const testFiles = readdirSync(path.join(ROOT, 'test'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.test.ts') && !e.parentPath.includes(`${path.sep}fixtures`))
  .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
  .filter((f) => f !== SELF)
  .sort();

/** `file` and the test modules it imports, transitively, outside test/helpers/ (whose starters are named above). */
function ownModules(file: string, seen = new Set<string>()): Set<string> {
  seen.add(file);
  for (const m of read(file).matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)\.js'/g)) {
    const target = path.posix.join(path.posix.dirname(file), `${m[1]}.ts`);
    if (target.startsWith('test/') && !target.startsWith('test/helpers/') && !seen.has(target)) ownModules(target, seen);
  }
  return seen;
}

function startsProcesses(file: string): boolean {
  return [...ownModules(file)].some((m) => {
    const text = read(m);
    return SPAWNS.test(text) || Object.values(HELPER_STARTERS).some((call) => call.test(text));
  });
}

describe('test groups', () => {
  it('the test files that start processes are exactly the processes project (test/process-tests.ts)', () => {
    expect(testFiles.filter(startsProcesses)).toEqual(testFiles.filter(isProcessTest));
    for (const entry of PROCESS_TESTS)
      expect(
        testFiles.some((f) => (entry.endsWith('/') ? f.startsWith(entry) : f === entry)),
        entry,
      ).toBe(true);
  });

  it('the helpers that use node:child_process are the ones whose starters are named here', () => {
    const helpers = readdirSync(path.join(ROOT, 'test/helpers')).map((f) => `test/helpers/${f}`);
    expect(helpers.filter((f) => SPAWNS.test(read(f))).sort()).toEqual(Object.keys(HELPER_STARTERS).sort());
  });
});
