/**
 * A separate process with the verify cache off, for rate-limit-processes.test.ts: its own pg
 * Pool on POSTGRES_URL and a `createTokenAccess` on a postgresStore (SCHEMA). It speaks the
 * part of test-utils' `serveCacheWorker` protocol the test uses, so `startCacheWorker` starts
 * it: prints `ready` once its connections are open, then answers `{ op: 'burst', token, n }`
 * with the count per code of n parallel verifies, one JSON line per command.
 *
 * Run with `node --import tsx` and TSX_TSCONFIG_PATH pointing at this folder's tsconfig.
 */
import { createInterface } from 'node:readline';
import { createTokenAccess } from '@tokenaccess/core';
import pg from 'pg';
import { postgresStore } from '../../src/index';

const env = process.env as Record<string, string | undefined>;
const pool = new pg.Pool({ connectionString: env.POSTGRES_URL, max: 8, connectionTimeoutMillis: 10_000 });
pool.on('error', () => {});
// counting across processes, not deadlines: a loaded machine must not turn a wait into `unavailable`
const tokens = createTokenAccess({ store: postgresStore({ client: pool, schema: env.SCHEMA!, timeout: 30_000 }), timeout: 30_000 });

// Open the connections first, so the processes race on the row, not on connecting.
await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1')));
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; token: string; n: number };
  if (cmd.op !== 'burst') break;
  const counts: Record<string, number> = {};
  for (const r of await Promise.all(Array.from({ length: cmd.n }, () => tokens.verify(cmd.token)))) {
    const k = r.ok ? 'ok' : r.error.code;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  process.stdout.write(`${JSON.stringify(counts)}\n`);
}
await pool.end();
process.exit(0);
