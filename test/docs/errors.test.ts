/**
 * docs/errors.md is generated from the error catalog (src/errors/catalog) by scripts/errors-doc.ts
 * (`npm run docs:errors`); it must be current.
 */
import { describe, expect, it } from 'vitest';
import { isCurrent, render } from '../../scripts/errors-doc.js';
import { CATALOG, LOG_EVENTS } from '../../src/errors/catalog/index.js';

describe('docs/errors.md', () => {
  it('is current with the error catalog (run npm run docs:errors)', () => {
    expect(isCurrent()).toBe(true);
  });

  it('lists every catalog code and every log event', () => {
    const page = render();
    for (const code of Object.keys(CATALOG)) expect(page, code).toContain(`| \`${code}\` |`);
    for (const event of Object.keys(LOG_EVENTS)) expect(page, event).toContain(`| \`${event}\` |`);
    expect(page).not.toMatch(/\{\{[^}]*\}\}/);
  });
});
