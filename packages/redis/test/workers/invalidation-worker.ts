/**
 * A separate process with the verify cache on, for the cross-process invalidation tests and
 * bench/cache: a redisStore on REDIS_URL (KEY_PREFIX) whose cache listens on redisInvalidation
 * (CHANNEL), its subscriber through SUB_PORT when given (a fault proxy the test cuts), with
 * TTL / DOWN_TTL / HEARTBEAT. Speaks test-utils' `serveCacheWorker` protocol
 * (ready, then one JSON command per stdin line).
 *
 * Run with `node --import tsx` and TSX_TSCONFIG_PATH pointing at this folder's tsconfig.
 */
import { serveCacheWorker } from 'test-utils';
import { redisStore } from '@tokenaccess/redis';
import { Redis } from 'ioredis';
import { redisInvalidation } from '../../src/invalidation';

const env = process.env as Record<string, string | undefined>;
const client = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1, commandTimeout: 30_000, enableAutoPipelining: true });
const subscriber = env.SUB_PORT ? new Redis({ host: '127.0.0.1', port: Number(env.SUB_PORT), maxRetriesPerRequest: 1, retryStrategy: () => 100 }) : undefined;
const feed = redisInvalidation({ client, channel: env.CHANNEL!, heartbeat: Number(env.HEARTBEAT ?? 5000), ...(subscriber ? { subscriber } : {}) });
await serveCacheWorker({
  store: redisStore({ client, keyPrefix: env.KEY_PREFIX!, timeout: 30_000 }),
  feed,
  ttl: Number(env.TTL ?? 3_600_000),
  downTtl: Number(env.DOWN_TTL ?? 1000),
  close: async () => {
    subscriber?.disconnect();
    await client.quit();
  },
});
