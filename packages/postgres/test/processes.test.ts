/**
 * Use limits across processes: 4 Node processes, each with its own pool, verify one token with
 * maxUses 25, 100 times each, all at once. Exactly 25 verifications succeed in total.
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

const pool = testPool();
const schema = randomSchema('procs');
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

function child(token: string) {
  const script = fileURLToPath(new URL('./child/verify-many.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, POSTGRES_URL, SCHEMA: schema, TOKEN: token, VERIFIES: String(VERIFIES), TSX_TSCONFIG_PATH: fileURLToPath(new URL('./child/tsconfig.json', import.meta.url)) },
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
