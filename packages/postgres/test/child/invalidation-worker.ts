/**
 * A separate process with the verify cache on, for the cross-process invalidation tests and
 * bench/cache: a postgresStore on POSTGRES_URL (SCHEMA) whose cache listens on
 * postgresInvalidation (CHANNEL), its LISTEN connection through LISTEN_PORT when given (a fault
 * proxy the test cuts), with TTL / DOWN_TTL / HEARTBEAT.
 * The command protocol is test-utils' `serveCacheWorker`.
 *
 * Run with `node --import tsx` and TSX_TSCONFIG_PATH pointing at this folder's tsconfig.
 */
import { serveCacheWorker } from 'test-utils';
import pg from 'pg';
import { postgresStore } from '../../src/index';
import { postgresInvalidation } from '../../src/invalidation';

const env = process.env as Record<string, string | undefined>;
const pool = new pg.Pool({ connectionString: env.POSTGRES_URL, max: 8, connectionTimeoutMillis: 10_000 });
pool.on('error', () => {});
const listenUrl = new URL(env.POSTGRES_URL!);
if (env.LISTEN_PORT) listenUrl.port = env.LISTEN_PORT;
const feed = postgresInvalidation({
  client: pool,
  channel: env.CHANNEL!,
  heartbeat: Number(env.HEARTBEAT ?? 5000),
  backoff: { min: 50, max: 500 },
  listener: async () => {
    const c = new pg.Client({ connectionString: listenUrl.toString(), connectionTimeoutMillis: 2000 });
    c.on('error', () => {});
    await c.connect();
    return c;
  },
});
await serveCacheWorker({
  store: postgresStore({ client: pool, schema: env.SCHEMA!, timeout: 30_000 }),
  feed,
  ttl: Number(env.TTL ?? 3_600_000),
  downTtl: Number(env.DOWN_TTL ?? 1000),
  close: () => pool.end(),
});
