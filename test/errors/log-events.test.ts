/**
 * Every pino log call in src/ carries an `event` (a stable snake_case name), and the events logged are
 * exactly those the catalog lists (src/errors/catalog/events.ts), which docs/errors.md shows.
 */
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../src/errors/catalog/index.js';
import { callsOf, lineAt, sourceFiles } from './source.js';

const files = sourceFiles();
const LOG_CALL = /\blogger\??\.(?:info|warn|error|debug|fatal|trace)/;

/** The first argument of a log call when it is an object literal, else undefined. */
function firstObject(args: string): string | undefined {
  const text = args.trimStart();
  if (!text.startsWith('{')) return undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(0, i + 1);
  }
  return undefined;
}

/** The events src/ logs: `event: '…'` in a log call's fields, and the failure log's `record('…', …)`. */
function loggedEvents(): Map<string, string[]> {
  const events = new Map<string, string[]>();
  const add = (name: string, where: string) => events.set(name, [...(events.get(name) ?? []), where]);
  for (const f of files) {
    for (const call of callsOf(f.code, LOG_CALL)) {
      const name = /[{,]\s*event:\s*'([^']+)'/.exec(firstObject(call.text) ?? '')?.[1];
      if (name) add(name, `${f.path}:${lineAt(f.code, call.at)}`);
    }
    for (const m of f.code.matchAll(/\bfailures\.record\(\s*'([^']+)'/g)) add(m[1]!, `${f.path}:${lineAt(f.code, m.index)}`);
  }
  return events;
}

describe('log events', () => {
  it('every log call in src/ carries an event field', () => {
    const calls = files.flatMap((f) => callsOf(f.code, LOG_CALL).map((c) => ({ where: `${f.path}:${lineAt(f.code, c.at)}`, fields: firstObject(c.text) })));
    expect(calls.length).toBeGreaterThan(20);
    const without = calls.filter((c) => !c.fields || !/[{,]\s*event\s*[:,}]/.test(c.fields)).map((c) => c.where);
    expect(without, 'give these log calls an event (and list it in src/errors/catalog/events.ts)').toEqual([]);
  });

  it('the events logged are exactly those src/errors/catalog/events.ts lists, in stable snake_case', () => {
    const logged = loggedEvents();
    expect([...logged.keys()].sort()).toEqual(Object.keys(LOG_EVENTS).sort());
    for (const name of Object.keys(LOG_EVENTS)) expect(name).toMatch(/^[a-z]+(?:[_.][a-z]+)*$/);
  });

  it('the scan sees a log call without an event, and one whose event is a variable', () => {
    const code = "logger.info({ dir }, 'x');\nlogger.error(\n  { event, ref },\n  'y',\n);\nlogger.warn('z');";
    const calls = callsOf(code, LOG_CALL).map((c) => firstObject(c.text));
    expect(calls).toEqual(['{ dir }', '{ event, ref }', undefined]);
  });
});
