import { TOMBSTONE_MS, TokenAccessError, checkListQuery, deadlines, dutyCycle, judgeRead, purgeAt, storeError, sweepInBatches, sweepShare, timeDeadline } from '@tokenaccess/core/store';
import { afterEach, describe, expect, it, vi } from 'vitest';

const at = (iso: string) => new Date(iso);

describe('deadlines: the one watcher', () => {
  afterEach(() => vi.useRealTimers());
  const fail = (what: string, err: unknown, timedOut: boolean) => storeError('kit', timedOut ? `${what} (deadline)` : what, err);

  it('rejects with unavailable at the deadline, and never maps a late reply', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const calls = deadlines(1000, fail);
    let release!: (v: string) => void;
    const mapped: string[] = [];
    const p = calls.then('consume', new Promise<string>((r) => (release = r)), (v) => mapped.push(v));
    const outcome = p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(900);
    await vi.advanceTimersByTimeAsync(300);
    const err = await outcome;
    expect(err).toBeInstanceOf(TokenAccessError);
    expect(err).toMatchObject({ code: 'unavailable', message: '[tokenaccess] [kit] consume (deadline) failed: no answer within 1000 ms' });
    release('late');
    await Promise.resolve();
    expect(mapped).toEqual([]);
  });

  it('after the event loop was blocked, a reply that arrived meanwhile wins over the deadline', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const calls = deadlines(1000, fail);
    let release!: (v: string) => void;
    const p = calls.then('get', new Promise<string>((r) => (release = r)), (v) => v);
    const settled = p.then((v) => v, (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100); // the watcher has checked twice
    vi.setSystemTime(Date.now() + 5000); // the loop was blocked for 5 s: the deadline is past
    setTimeout(() => release('value'), 60); // the reply is delivered after the next (late) check
    await vi.advanceTimersByTimeAsync(120);
    expect(await settled).toBe('value');
  });

  it('maps a call that throws or rejects, passes TokenAccessError through, and maps values in time', async () => {
    const calls = deadlines(1000, fail);
    await expect(calls.run('get', () => { throw new Error('boom'); })).rejects.toMatchObject({ code: 'unavailable', message: '[tokenaccess] [kit] get failed: boom' });
    await expect(calls.run('get', () => Promise.reject(new TokenAccessError('duplicate', 'dup')))).rejects.toMatchObject({ code: 'duplicate' });
    await expect(calls.then('get', Promise.resolve(2), (v) => v * 21)).resolves.toBe(42);
    await expect(deadlines(0, fail).run('get', () => Promise.reject(new Error('x')))).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('takes a Duration, as every timeout option of tokenaccess does; refuses what is not one', () => {
    expect(deadlines('2s', fail).timeout).toBe(2000);
    expect(deadlines(250, fail).timeout).toBe(250);
    expect(deadlines(0, fail).timeout).toBe(0);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 'soon', '-5s']) expect(() => deadlines(bad as never, fail)).toThrow(TokenAccessError);
  });
});

describe('sweepInBatches: the same batch and progress rules for every store', () => {
  it('reports after each deleting batch and once at the end; an empty sweep reports 0 once', async () => {
    const progress: number[] = [];
    const left = [3, 3, 1];
    const total = await sweepInBatches('kit', { batchSize: 3, onProgress: (n) => progress.push(n) }, async (size) => {
      const deleted = left.shift() ?? 0;
      return { deleted, more: deleted === size };
    });
    expect([total, progress]).toEqual([7, [3, 6, 7]]);
    const empty: number[] = [];
    expect(await sweepInBatches('kit', { onProgress: (n) => empty.push(n) }, async () => ({ deleted: 0, more: false }))).toBe(0);
    expect(empty).toEqual([0]);
  });

  it.each([0, -1, 1.5, 10_001, Number.NaN])('batchSize %s is refused', async (batchSize) => {
    await expect(sweepInBatches('kit', { batchSize }, async () => ({ deleted: 0, more: false }))).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('checkListQuery', () => {
  it.each([
    [{ limit: 0 }],
    [{ limit: 1001 }],
    [{ limit: 1.5 }],
    [{ limit: 10, kind: 'sessions' }],
    [{ limit: 10, subject: '' }],
    [{ limit: 10, cursor: '' }],
    [{ limit: 10, cursor: 'x'.repeat(257) }],
  ])('%j is refused', (query) => {
    expect(() => checkListQuery('kit', query as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

describe('expiry arithmetic', () => {
  const base = { createdAt: at('2026-01-01T00:00:00Z'), uses: 0 };
  it('timeDeadline is the earlier of expiresAt and the idle deadline', () => {
    expect(timeDeadline(base)).toBeUndefined();
    expect(timeDeadline({ ...base, expiresAt: at('2026-02-01T00:00:00Z'), idleTimeout: 86_400_000 })).toBe(Date.parse('2026-01-02T00:00:00Z'));
    expect(timeDeadline({ ...base, idleTimeout: 1000, lastUsedAt: at('2026-01-05T00:00:00Z') })).toBe(Date.parse('2026-01-05T00:00:01Z'));
  });

  it('purgeAt keeps a used-up token until its deadline, or a tombstone period after its last use', () => {
    const used = { ...base, maxUses: 1, uses: 1, lastUsedAt: at('2026-01-03T00:00:00Z') };
    expect(purgeAt({ ...used, expiresAt: at('2026-01-10T00:00:00Z') })).toBe(Date.parse('2026-01-10T00:00:00Z'));
    expect(purgeAt(used)).toBe(Date.parse('2026-01-03T00:00:00Z') + TOMBSTONE_MS);
    expect(purgeAt({ ...base, maxUses: 2, uses: 1 })).toBeUndefined();
    expect(purgeAt({ ...base, expiresAt: at('2026-01-10T00:00:00Z') }, 5000)).toBe(Date.parse('2026-01-10T00:00:05Z'));
  });
});

describe('judgeRead: the read-first path', () => {
  const record = { id: 'i', kind: 'access' as const, name: 'n', scopes: ['*'], uses: 0, createdAt: at('2026-01-01T00:00:00Z'), hint: 'tka_x', hash: 'h' };
  const now = Date.parse('2026-01-01T00:00:10Z');
  it('answers a fresh unlimited token and a refusal from the read; runs the atomic step only to write', async () => {
    let atomic = 0;
    const step = async () => {
      atomic++;
      return { ok: true as const, record };
    };
    const policy = { lastUsedResolution: 60_000 };
    expect(await judgeRead(null, now, policy, step)).toEqual({ ok: false, reason: 'not_found' });
    expect(await judgeRead({ ...record, lastUsedAt: at('2026-01-01T00:00:05Z') }, now, policy, step)).toMatchObject({ ok: true });
    expect(await judgeRead({ ...record, expiresAt: at('2026-01-01T00:00:01Z') }, now, policy, step)).toMatchObject({ ok: false, reason: 'expired' });
    expect(atomic).toBe(0);
    await judgeRead(record, now, policy, step); // never used: lastUsedAt must be written
    await judgeRead({ ...record, maxUses: 5 }, now, policy, step);
    expect(atomic).toBe(2);
  });
});

// The sweeps' duty cycle (issue #20), used by the Redis and Postgres sweeps: pauses are counted
// on a fake clock, never timed.
/** A clock that only moves when told, and a sleep that moves it by what it was asked. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    work: (ms: number) => void (now += ms),
    sleeps,
  };
}

describe('dutyCycle', () => {
  it('sweepShare: the sweepPace option as a share (0.5 by default, full = 1), anything else refused', () => {
    expect([sweepShare('x', undefined), sweepShare('x', 'full'), sweepShare('x', 0.25)]).toEqual([0.5, 1, 0.25]);
    for (const bad of [0, 0.001, 1.5, Number.NaN, 'fast']) expect(() => sweepShare('redis', bad as number)).toThrow(/\[redis\] sweepPace must be/);
  });

  it('rests in proportion to the work since the last rest: share 0.5 rests as long, 0.2 four times as long', async () => {
    for (const [share, ratio] of [[0.5, 1], [0.2, 4]] as const) {
      const time = fakeTime();
      const cycle = dutyCycle(share, 0, time.clock, time.sleep);
      for (const worked of [3, 10, 2]) {
        time.work(worked);
        await cycle.rest();
      }
      expect(time.sleeps.map((ms) => Math.round(ms * 1000) / 1000)).toEqual([3 * ratio, 10 * ratio, 2 * ratio]);
    }
  });

  it('owes rests under 1 ms and pays them together; at share 1 (full) it only yields', async () => {
    const time = fakeTime();
    const cycle = dutyCycle(0.5, 0, time.clock, time.sleep);
    for (let i = 0; i < 5; i++) {
      time.work(0.4);
      await cycle.rest();
    }
    // owed 0.4, 0.8, then 1.2 paid, then 0.4, 0.8
    expect(time.sleeps.map((ms) => Math.round(ms * 10) / 10)).toEqual([0, 0, 1.2, 0, 0]);

    const full = fakeTime();
    const fast = dutyCycle(1, 0, full.clock, full.sleep);
    for (let i = 0; i < 3; i++) {
      full.work(50);
      await fast.rest();
    }
    expect(full.sleeps).toEqual([0, 0, 0]);
  });

  it('keeps sweepPause as a floor, credits a rest that overran, and caps one rest at 1 s', async () => {
    const time = fakeTime();
    const floor = dutyCycle(0.5, 5, time.clock, time.sleep);
    time.work(2);
    await floor.rest();
    expect(time.sleeps).toEqual([5]); // 2 owed, 5 slept: 3 credited
    time.work(2);
    await floor.rest();
    expect(time.sleeps).toEqual([5, 5]);

    const slow = fakeTime();
    const capped = dutyCycle(0.1, 0, slow.clock, slow.sleep);
    slow.work(2000); // a step stalled by the network: 18 s owed, 1 s paid
    await capped.rest();
    expect(slow.sleeps).toEqual([1000]);
  });
});

