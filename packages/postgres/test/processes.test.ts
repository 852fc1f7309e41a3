/**
 * Use limits across processes: 4 Node processes, each with its own pool, verify one token with
 * maxUses 25, 100 times each, all at once. Exactly 25 verifications succeed in total. The same
 * with a refilling token at a period boundary, half the processes' clocks just before it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createTokenAccess } from '@tokenaccess/core';
import { afterAll, expect, it } from 'vitest';
import { migrate, postgresStore } from '../src/index';
import { POSTGRES_URL, dropSchema, randomSchema, testPool } from './helpers';

const PROCESSES = 4;
const VERIFIES = 100;
const MAX_USES = 25;
const HOUR = 3_600_000;

const pool = testPool();
const schema = randomSchema('procs');
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

function child(token: string, clock?: number) {
  const script = fileURLToPath(new URL('./child/verify-many.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, POSTGRES_URL, SCHEMA: schema, TOKEN: token, VERIFIES: String(VERIFIES), ...(clock === undefined ? {} : { CLOCK: String(clock) }), TSX_TSCONFIG_PATH: fileURLToPath(new URL('./child/tsconfig.json', import.meta.url)) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: proc.stdout });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
    });
  return { proc, next, go: () => proc.stdin.write('go\n') };
}

it(`${PROCESSES} processes x ${VERIFIES} parallel verifies of a maxUses ${MAX_USES} token: exactly ${MAX_USES} succeed`, async () => {
  await migrate(pool, { schema });
  const tokens = createTokenAccess({ store: postgresStore({ client: pool, schema }) });
  const { token, info } = await tokens.issue({ subject: 'procs', name: 'shared', maxUses: MAX_USES });

  const children = Array.from({ length: PROCESSES }, () => child(token));
  try {
    expect(await Promise.all(children.map((c) => c.next()))).toEqual(Array(PROCESSES).fill('ready'));
    const outcomes = children.map((c) => c.next());
    for (const c of children) c.go();
    const counts = (await Promise.all(outcomes)).map((line) => JSON.parse(line) as Record<string, number>);

    const total = (k: string) => counts.reduce((n, c) => n + (c[k] ?? 0), 0);
    expect(total('ok')).toBe(MAX_USES);
    expect(total('exhausted')).toBe(PROCESSES * VERIFIES - MAX_USES);
    expect((await postgresStore({ client: pool, schema }).findById(info.id))?.uses).toBe(MAX_USES);
  } finally {
    for (const c of children) c.proc.kill();
  }
}, 120_000);

it(`${PROCESSES} processes x ${VERIFIES} parallel verifies of a refilling maxUses ${MAX_USES} token across a period boundary, two clocks on each side: exact per period`, async () => {
  await migrate(pool, { schema });
  const store = postgresStore({ client: pool, schema });
  const { token, info } = await createTokenAccess({ store }).issue({ subject: 'procs', name: 'refilling', maxUses: MAX_USES, refill: { every: '1h' } });
  // 3 uses left in the period that ends at `boundary`
  const boundary = info.createdAt.getTime() + HOUR;
  const before = createTokenAccess({ store, clock: () => boundary - 1000 });
  for (let i = 0; i < MAX_USES - 3; i++) expect((await before.verify(token)).ok).toBe(true);

  const children = Array.from({ length: PROCESSES }, (_, i) => child(token, i % 2 ? boundary + i : boundary - 1 - i));
  try {
    expect(await Promise.all(children.map((c) => c.next()))).toEqual(Array(PROCESSES).fill('ready'));
    const outcomes = children.map((c) => c.next());
    for (const c of children) c.go();
    const counts = (await Promise.all(outcomes)).map((line) => JSON.parse(line) as Record<string, number>);
    const total = (k: string) => counts.reduce((n, c) => n + (c[k] ?? 0), 0);
    // all of the new period's budget, plus at most what the old period had left
    expect(total('ok')).toBeGreaterThanOrEqual(MAX_USES);
    expect(total('ok')).toBeLessThanOrEqual(MAX_USES + 3);
    expect(total('ok') + total('exhausted')).toBe(PROCESSES * VERIFIES);
    expect(Math.max(...counts.map((c) => c.maxUses ?? 0))).toBe(MAX_USES);
    // the row ends in the new period, used up: lastUsedAt never went back across the boundary
    const stored = await store.findById(info.id);
    expect(stored?.uses).toBe(MAX_USES);
    expect(stored!.lastUsedAt!.getTime()).toBeGreaterThanOrEqual(boundary);
  } finally {
    for (const c of children) c.proc.kill();
  }
}, 120_000);
