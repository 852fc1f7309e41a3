// A verify cache with instant cross-process revocation over Redis pub/sub; docs/caching.md
// quotes it, docs/test/caching.test.ts runs two services (two "processes") against one Redis.
import { Redis } from 'ioredis';
import { createTokenAccess } from '@tokenaccess/core';
import { redisInvalidation, redisStore } from '@tokenaccess/redis';

export function service(client: Redis, keyPrefix: string) {
  const feed = redisInvalidation({ client });
  const tokens = createTokenAccess({
    store: redisStore({ client, keyPrefix }),
    cache: { ttl: '30s', max: 10_000, negativeTtl: '5s', invalidation: feed },
  });
  // on shutdown: await feed.close();
  return { tokens, feed };
}

export { Redis };
