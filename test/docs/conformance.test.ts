/**
 * docs/conformance.md is generated from docs/requirements.json and the test titles; it must be current, and every
 * requirement ID cited in the repository must resolve in docs/requirements.json.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { collectCitations, ID_PATTERN, loadRequirements, problems, render } from '../../scripts/conformance.mjs';

describe('conformance table', () => {
  it('docs/conformance.md is current and every cited requirement ID is defined', () => {
    expect(problems()).toEqual([]);
  });

  it('an ID is a checklist prefix and a number, never a longer word such as SHA-1 or UTF-8', () => {
    const text = 'SHA-1 UTF-8 X-Forwarded-For PKI-4 (BT-11) X-5, H15-3. MD-6a SC-6-ish';
    expect([...text.matchAll(ID_PATTERN)].map((m: RegExpMatchArray) => m[0])).toEqual(['PKI-4', 'BT-11', 'X-5', 'H15-3']);
  });

  it('an unknown ID cited in the repository would be reported', () => {
    const { known } = loadRequirements();
    for (const id of collectCitations().keys()) expect(known.has(id), id).toBe(true);
    expect(known.has(['PKI', '99'].join('-'))).toBe(false);
    expect(render()).toContain('| PKI-4 |');
  });
});
