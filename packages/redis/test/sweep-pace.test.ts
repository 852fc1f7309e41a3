import { at, record } from '@tokenaccess/test-suite';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { redisStore } from '@tokenaccess/redis';
import { tokenIndex } from './layout';
import { randomPrefix, usePrivateRedis } from './servers';

// The sweep's duty cycle (issue #20; the arithmetic is core's `dutyCycle`, tested in core): a sweep
// in a serving process rests between steps in proportion to the time each step took. Pauses are
// counted (timers), never timed.
let client: Redis;
usePrivateRedis((c) => void (client = c));

let keyPrefix: string;
beforeEach(() => {
  keyPrefix = randomPrefix();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const HOUR = 3_600_000;

describe('a paced sweep on Redis', () => {
  /** `n` expired tokens and 40 live ones. */
  async function seed(store: ReturnType<typeof redisStore>, n = 120) {
    const dead = Array.from({ length: n }, () => record({ expiresAt: at(HOUR) }));
    const live = Array.from({ length: 40 }, () => record({ expiresAt: at(10 * HOUR) }));
    await Promise.all([...dead, ...live].map((r) => store.insert(r)));
    return { dead, live };
  }

  /** Timers of 1 ms to 1 s set while `fn` runs: the duty cycle's rests (ioredis's command timeouts are 2 s). */
  async function rests(fn: () => Promise<number>) {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const result = await fn();
      const count = spy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms > 0 && ms <= 1000).length;
      return { result, count };
    } finally {
      spy.mockRestore();
    }
  }

  it('rests after every step at a low share, and deletes exactly the dead tokens (checked on Redis directly)', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 2, sweepConcurrency: 4, sweepPace: 0.01 });
    const { dead, live } = await seed(store, 48);
    const progress: number[] = [];
    const { result, count } = await rests(() => store.sweep(at(2 * HOUR), { batchSize: 10, onProgress: (n) => progress.push(n) }));
    expect(result).toBe(48);
    // at 1 % a step of any length owes 99 times as much: every one of the ≥ 12 steps rests
    expect(count).toBeGreaterThanOrEqual(12);
    expect(progress[progress.length - 1]).toBe(48);
    expect(progress.length).toBeGreaterThanOrEqual(5); // batches of 10
    expect((await tokenIndex(client, keyPrefix, 2).all()).map((f) => f.id).sort()).toEqual(live.map((r) => r.id).sort());
    for (const r of dead) expect(await client.exists(`${keyPrefix}t:{${r.hash}}`)).toBe(0);
    for (const r of live) expect(await client.exists(`${keyPrefix}t:{${r.hash}}`)).toBe(1);
    for (const r of live.slice(0, 10)) expect(await store.findById(r.id)).toEqual(r);
  });

  it('takes one entry at a time while paced (the default sweepConcurrency), so a verify waits behind one sweep command at most', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 2, sweepPace: 0.01 });
    await seed(store, 48);
    const { result, count } = await rests(() => store.sweep(at(2 * HOUR)));
    expect(result).toBe(48);
    expect(count).toBeGreaterThanOrEqual(48); // a rest after every entry (four at a time: 12)
  });

  it("sweeps at full speed with sweepPace 'full': the same tokens deleted, no rest", async () => {
    const store = redisStore({ client, keyPrefix, buckets: 4, sweepPace: 'full' });
    const { dead, live } = await seed(store);
    const { result, count } = await rests(() => store.sweep(at(2 * HOUR)));
    expect(result).toBe(120);
    expect(count).toBe(0);
    for (const r of dead) expect(await client.exists(`${keyPrefix}t:{${r.hash}}`)).toBe(0);
    for (const r of live) expect(await client.exists(`${keyPrefix}t:{${r.hash}}`)).toBe(1);
  });

  it('resumes: a paced sweep stopped after one batch and run again deletes the rest once', async () => {
    const store = redisStore({ client, keyPrefix, buckets: 1, sweepPace: 0.5 });
    const { dead } = await seed(store);
    // a first sweep that only sees the first 30 dead tokens (by deadline), then a full one
    const first = dead.slice(0, 30);
    await Promise.all(first.map((r) => store.update!(r.id, { expiresAt: at(HOUR / 2) })));
    expect(await store.sweep(at(HOUR * 0.75), { batchSize: 7 })).toBe(30);
    expect(await store.sweep(at(2 * HOUR), { batchSize: 7 })).toBe(90);
    expect(await store.sweep(at(2 * HOUR))).toBe(0);
  });

  it('refuses a sweepPace that is not a share from 0.01 to 1 or "full"', () => {
    for (const bad of [0, 0.001, 1.5, -1, Number.NaN, 'fast', '0.5'] as unknown[]) {
      expect(() => redisStore({ client, sweepPace: bad as number })).toThrow(/sweepPace/);
    }
    for (const good of [0.01, 0.5, 1, 'full'] as const) expect(() => redisStore({ client, sweepPace: good })).not.toThrow();
  });
});
