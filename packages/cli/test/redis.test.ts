import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TokenStore } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowTests } from './flow';
import { lifecycleTests } from './lifecycle';
import { REDIS_URL, ok, tempDir } from './helpers';

describe('Redis (--store redis://… --key-prefix …)', () => {
  const keyPrefix = `tkaclitest:${randomBytes(5).toString('hex')}:`;
  let client: Redis;
  let dir: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir('redis'));
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    if (client) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await client.del(...keys);
      } while (cursor !== '0');
      await client.quit();
    }
    await remove?.();
  });

  const withStore = async <T>(fn: (store: TokenStore) => Promise<T>) => fn(redisStore({ client, keyPrefix }));
  flowTests({ args: () => ['--store', REDIS_URL, '--key-prefix', keyPrefix], options: () => ({ cwd: dir }), withStore });
  lifecycleTests({ args: () => ['--store', REDIS_URL, '--key-prefix', keyPrefix], options: () => ({ cwd: dir }), withStore });

  it('keeps every key under the prefix, also when given as ?keyPrefix=', async () => {
    await ok(['issue', 'judy', '--store', `${REDIS_URL}?keyPrefix=${encodeURIComponent(keyPrefix)}`], { cwd: dir });
    const [, keys] = await client.scan('0', 'MATCH', `${keyPrefix}*`, 'COUNT', 10_000);
    expect(keys.length).toBeGreaterThan(0);
    const r = await ok(['list', '--store', REDIS_URL, '--key-prefix', keyPrefix, '--subject', 'judy', '--json'], { cwd: dir });
    expect((JSON.parse(r.stdout) as { count: number }).count).toBe(1);
    expect((await ok(['migrate', '--store', REDIS_URL], { cwd: dir })).stdout).toContain('needs no migration');
  });
});
