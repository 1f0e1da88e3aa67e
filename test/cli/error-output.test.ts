/** The CLI's one error printer: the shape on standard error and the exit status. */
import { describe, expect, it } from 'vitest';
import { formatCliError, reportCliError } from '../../src/cli/error-output.js';
import { CertboundError, InvalidInputError } from '../../src/errors/index.js';

function capture(): { io: { err(text: string): void }; text: () => string } {
  const lines: string[] = [];
  return { io: { err: (t) => lines.push(t) }, text: () => lines.join('\n') };
}

describe('CLI error output', () => {
  it('writes error: message, detail lines, then → hint lines', () => {
    expect(formatCliError({ message: 'refused', details: ['error: invalid_client', 'ref: 1a2b3c4d'], hints: ['do this', 'then that'] })).toBe(
      'error: refused\n  error: invalid_client\n  ref: 1a2b3c4d\n  → do this\n  → then that',
    );
  });

  it('exits 2 on bad input (a 4xx coded error) with its hint, 1 on any other coded error', () => {
    const bad = capture();
    expect(reportCliError(new InvalidInputError('ERR_LIMIT_INVALID', '--limit 0 is not a whole number from 1 to 1000', { hint: 'Give 1 to 1000.' }), bad.io)).toBe(2);
    expect(bad.text()).toBe('error: --limit 0 is not a whole number from 1 to 1000\n  → Give 1 to 1000.');
    const failed = capture();
    expect(reportCliError(new CertboundError('ERR_DATABASE_FULL', 'the disk is full'), failed.io)).toBe(1);
    expect(failed.text()).toBe('error: the disk is full');
  });

  it('prints the stack of an uncoded error and exits 1', () => {
    const out = capture();
    const err = new Error('boom');
    expect(reportCliError(err, out.io)).toBe(1);
    expect(out.text()).toBe(`error: ${err.stack}`);
  });
});
