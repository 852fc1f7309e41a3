import { describe, expect, it } from 'vitest';
import * as life from '../examples/lifecycle';

describe('docs/examples/lifecycle.ts does what docs/concepts/lifecycle.md says', () => {
  it('update', async () => {
    expect(await life.update(life.service().tokens)).toEqual({ name: 'CI (main)', ok: true });
  });
  it('disable / enable', async () => {
    expect(await life.disableEnable(life.service().tokens)).toEqual({ refused: 'disabled', again: true });
  });
  it('rotate', async () => {
    const s = life.service(Date.parse('2026-01-01T00:00:00Z'));
    expect(await life.rotate(s.tokens, s.advance)).toEqual({ during: [true, true], after: 'expired', oldExpires: new Date('2026-01-01T01:00:00Z') });
  });
  it('refill', async () => {
    const s = life.service();
    expect(await life.refill(s.tokens, s.advance)).toEqual({ spent: 'exhausted', renewed: true });
  });
  it('derive', async () => {
    expect(await life.derive(life.service().tokens)).toEqual({ parentId: true, widened: 'invalid_argument', after: 'not_found' });
  });
  it('expiring soon', async () => {
    const now = Date.now();
    const warned = await life.expiringSoon(life.service(now).tokens, now);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^user-1: "soon" expires /);
  });
});
