/**
 * A running service, for the CLI's publish tests: a separate process whose verify cache (ttl
 * 1 h) listens on the store's change feed, on BACKEND=redis (REDIS_URL, KEY_PREFIX) or
 * BACKEND=postgres (POSTGRES_URL, SCHEMA), channel CHANNEL. It imports the built packages, as
 * the CLI under test does. Speaks test-utils' `serveCacheWorker` protocol.
 *
 * Run with `node --import tsx` (startCacheWorker does).
 */
import { postgresInvalidation, postgresStore } from '@tokenaccess/postgres';
import { redisInvalidation, redisStore } from '@tokenaccess/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { serveCacheWorker } from 'test-utils';

const env = process.env as Record<string, string | undefined>;
const ttl = 3_600_000;
if (env.BACKEND === 'redis') {
  const client = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1, commandTimeout: 30_000 });
  await serveCacheWorker({
    store: redisStore({ client, keyPrefix: env.KEY_PREFIX!, timeout: 30_000 }),
    feed: redisInvalidation({ client, channel: env.CHANNEL! }),
    ttl,
    downTtl: 1000,
    close: async () => void (await client.quit()),
  });
} else {
  const pool = new pg.Pool({ connectionString: env.POSTGRES_URL, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {});
  await serveCacheWorker({
    store: postgresStore({ client: pool, schema: env.SCHEMA!, timeout: 30_000 }),
    feed: postgresInvalidation({ client: pool, channel: env.CHANNEL! }),
    ttl,
    downTtl: 1000,
    close: () => pool.end(),
  });
}
