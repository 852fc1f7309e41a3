/**
 * One of the separate processes of the multi-process concurrency test. Connects its own pool,
 * says `ready`, waits for `go` on stdin, then runs VERIFIES parallel verifies of TOKEN and
 * prints the count of each outcome as JSON, and the highest use count it saw. Run as
 * `node --import tsx verify-many.ts`.
 */
import { createInterface } from 'node:readline';
import { createTokenAccess } from '@tokenaccess/core';
import pg from 'pg';
import { postgresStore } from '../../src/index';

const { POSTGRES_URL, SCHEMA, TOKEN, VERIFIES, CLOCK } = process.env;
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 8, connectionTimeoutMillis: 10_000 });
pool.on('error', () => {});
// counting across processes, not deadlines: the store's own 2 s default would also bound the wait for a pooled connection
// CLOCK (epoch ms), when set, is this process's fixed clock
const clock = CLOCK ? () => Number(CLOCK) : undefined;
const tokens = createTokenAccess({ store: postgresStore({ client: pool, schema: SCHEMA!, timeout: 30_000 }), timeout: 30_000, ...(clock ? { clock } : {}) });

// Open the connections before the start signal, so the processes really race.
await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1')));
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;

const results = await Promise.all(Array.from({ length: Number(VERIFIES) }, () => tokens.verify(TOKEN!)));
const counts: Record<string, number> = {};
for (const r of results) {
  const k = r.ok ? 'ok' : r.error.code;
  counts[k] = (counts[k] ?? 0) + 1;
  if (r.ok) counts.maxUses = Math.max(counts.maxUses ?? 0, r.token.uses);
}
process.stdout.write(`${JSON.stringify(counts)}\n`);
await pool.end();
process.exit(0);
