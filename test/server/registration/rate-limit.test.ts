import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../src/server/registration/rate-limit.js';

describe('registration rate limit', () => {
  it('counts per initial access token within a minute, then tells how long to wait; a new minute starts again', () => {
    const limiter = createRateLimiter(2);
    const t = 1_000_000;
    expect(limiter.take('a', t)).toBeUndefined();
    expect(limiter.take('a', t + 1)).toBeUndefined();
    expect(limiter.take('a', t + 10_000)).toBe(50);
    expect(limiter.take('b', t + 10_000)).toBeUndefined();
    expect(limiter.take('a', t + 60_000)).toBeUndefined();
  });
});
