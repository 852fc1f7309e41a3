import { describe, expect, it } from 'vitest';
import * as rl from '../examples/rate-limits';

describe('docs/examples/rate-limits.ts does what docs/rate-limits.md says', () => {
  it('three answers with RateLimit headers, a 429 with Retry-After, then a new window', async () => {
    const s = rl.service(Date.parse('2026-01-01T00:00:00Z'));
    const out = await rl.main(s.tokens, s.advance);
    expect(out.answers).toEqual([
      { status: 200, ratelimit: '"token";r=2;t=60', retryAfter: null },
      { status: 200, ratelimit: '"token";r=1;t=60', retryAfter: null },
      { status: 200, ratelimit: '"token";r=0;t=60', retryAfter: null },
      { status: 429, ratelimit: '"token";r=0;t=60', retryAfter: '60' },
    ]);
    expect(out).toMatchObject({ next: 200, policy: '"token";q=3;w=60', defaulted: { limit: 1000, window: 3_600_000 } });
  });

  it('the bounds the tools check against are the ones issue enforces', () => {
    expect([rl.withinBounds(5000, 60_000), rl.withinBounds(5000, 1500), rl.withinBounds(0, 60_000)]).toEqual([true, false, false]);
  });
});
