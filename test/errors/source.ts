/** Reads src/ for the catalog and log-event tests: every TypeScript file, with its comments removed (lines kept). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SourceFile {
  /** Repo-relative path, e.g. src/server/mtls.ts. */
  path: string;
  /** The text without comments (strings that hold `//`, such as URLs, are kept). */
  code: string;
}

export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, '')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export function sourceFiles(dir = 'src'): SourceFile[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => {
      const rel = path.posix.join(dir, f.split(path.sep).join('/'));
      return { path: rel, code: stripComments(readFileSync(path.join(ROOT, rel), 'utf8')) };
    });
}

/** The text of each call `<callee>(…)` in `code`, parentheses balanced (strings are not parsed: fine for log calls). */
export function callsOf(code: string, callee: RegExp): { at: number; text: string }[] {
  const calls: { at: number; text: string }[] = [];
  for (const m of code.matchAll(new RegExp(`${callee.source}\\(`, 'g'))) {
    const start = m.index + m[0].length;
    let depth = 1;
    let i = start;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')') depth--;
    }
    calls.push({ at: m.index, text: code.slice(start, i - 1) });
  }
  return calls;
}

/** 1-based line of an offset. */
export function lineAt(code: string, offset: number): number {
  return code.slice(0, offset).split('\n').length;
}
