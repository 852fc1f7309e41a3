/**
 * The sweep's steps and duty cycle (issue #20): `sweepStep` rows per `DELETE` statement (counted
 * by a pass-through client in front of the real pool), a rest after each statement in proportion
 * to the time it took (counted as timers, never timed), `onProgress` still once per `batchSize`
 * batch, and exactly the dead rows deleted (read back with plain SQL).
 */
import type { TokenStore } from '@tokenaccess/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate, postgresStore, quoteIdent } from '../src/index';
import { dropSchema, randomSchema, record, testPool } from './helpers';

const HOUR = 3_600_000;
const pool = testPool({ max: 4 });
const schema = randomSchema('pace');
const table = `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;
beforeAll(async () => {
  await migrate(pool, { schema });
});
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The real pool, counting the sweep's DELETE statements on the way through. */
function counting() {
  const seen = { deletes: 0 };
  const client = {
    query: (text: string, values?: unknown[]) => {
      if (/^WITH d AS \(DELETE/.test(text)) seen.deletes++;
      return pool.query(text, values);
    },
  };
  return { client, seen };
}

/** Timers of 1 ms to 1 s set while `fn` runs: the duty cycle's rests (the pool's own timers are longer). */
async function rests<T>(fn: () => Promise<T>) {
  const spy = vi.spyOn(globalThis, 'setTimeout');
  try {
    const result = await fn();
    return { result, count: spy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms > 0 && ms <= 1000).length };
  } finally {
    spy.mockRestore();
  }
}

/** `dead` expired and 30 live tokens under a fresh subject; returns their ids. */
async function seed(store: TokenStore, dead: number) {
  const subject = `pace-${Math.random()}`;
  const now = Date.now();
  const gone = Array.from({ length: dead }, () => record({ subject, expiresAt: new Date(now - HOUR) }));
  const kept = Array.from({ length: 30 }, () => record({ subject, expiresAt: new Date(now + HOUR) }));
  for (const r of [...gone, ...kept]) await store.insert(r);
  return { subject, gone: gone.map((r) => r.id), kept: kept.map((r) => r.id) };
}

const idsOf = async (subject: string) => (await pool.query(`SELECT id FROM ${table} WHERE subject = $1 ORDER BY id`, [subject])).rows.map((r: { id: string }) => r.id);

describe('a paced Postgres sweep', () => {
  it('deletes sweepStep rows per statement, rests after each at a low share, reports per batch, and deletes exactly the dead rows', async () => {
    const { client, seen } = counting();
    const store = postgresStore({ client, schema, timeout: 0, sweepStep: 20, sweepPace: 0.01 });
    const { subject, kept } = await seed(store, 100);
    const progress: number[] = [];
    const { result, count } = await rests(() => store.sweep(new Date(), { batchSize: 40, onProgress: (n) => progress.push(n) }));
    expect(result).toBe(100);
    expect(progress).toEqual([40, 80, 100]);
    // expired arm: 2 + 2 + 2 statements (the last one finds nothing), then one each for the idle and used-up arms
    expect(seen.deletes).toBe(8);
    // at 1 % any statement owes 99 times its time: a rest after every one
    expect(count).toBeGreaterThanOrEqual(8);
    expect(await idsOf(subject)).toEqual([...kept].sort());
  });

  it("at sweepPace 'full' with sweepStep 1000 it sweeps as before: one statement per batch, no rest", async () => {
    const { client, seen } = counting();
    const store = postgresStore({ client, schema, timeout: 0, sweepStep: 1000, sweepPace: 'full' });
    const { subject, kept } = await seed(store, 120);
    const { result, count } = await rests(() => store.sweep(new Date(), { batchSize: 50 }));
    expect(result).toBe(120);
    expect(count).toBe(0);
    expect(seen.deletes).toBe(3 + 2); // 50, 50, 20 (short), then idle and used-up
    expect(await idsOf(subject)).toEqual([...kept].sort());
  });

  it('a batch smaller than sweepStep is one statement of batchSize rows', async () => {
    const { client, seen } = counting();
    const store = postgresStore({ client, schema, timeout: 0 });
    const { subject, kept } = await seed(store, 12);
    expect(await store.sweep(new Date(), { batchSize: 5 })).toBe(12);
    expect(seen.deletes).toBe(3 + 2);
    expect(await idsOf(subject)).toEqual([...kept].sort());
  });

  it('refuses sweepStep and sweepPace out of range', () => {
    for (const bad of [0, 1.5, 10_001, Number.NaN] as number[]) expect(() => postgresStore({ client: pool, sweepStep: bad })).toThrow(/sweepStep/);
    for (const bad of [0, 0.001, 1.5, Number.NaN, 'fast'] as unknown[]) expect(() => postgresStore({ client: pool, sweepPace: bad as number })).toThrow(/sweepPace/);
    for (const good of [0.01, 0.5, 1, 'full'] as const) expect(() => postgresStore({ client: pool, sweepPace: good })).not.toThrow();
  });
});
