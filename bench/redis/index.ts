/**
 * Redis store benchmark: `verify` through createTokenAccess against a raw `GET` of a value of
 * the same size, with the same client (ioredis, auto-pipelining) in the same run, at concurrency
 * 1 and 64; then memory per token measured with MEMORY USAGE.
 *
 *   npx tsx bench/redis/index.ts          (TOKENACCESS_REDIS_URL, default redis://127.0.0.1:6379)
 */
import { randomBytes } from 'node:crypto';
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { Redis } from 'ioredis';
import { compare, dropKeys, header, ratio, table } from '../lib';

const url = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';
const client = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 5000 });
// random, and as long as the default `tka:`, so the memory figures hold for it
const tag = randomBytes(1).toString('hex');
const keyPrefix = `b${tag}:`;
const memPrefix = `m${tag}:`;

const drop = (prefix: string) => dropKeys(client, prefix);

/** Node CPU time per operation (µs) at `concurrency` in flight: where the time of a verify goes. */
async function cpuPerOp(fn: () => Promise<unknown>, concurrency: number, n = 100_000): Promise<number> {
  let i = 0;
  const worker = async () => {
    while (i++ < n) await fn();
  };
  await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up
  i = 0;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

async function main() {
  const store = redisStore({ client, keyPrefix });
  const tokens = createTokenAccess({ store });
  const scripted = createTokenAccess({ store: redisStore({ client, keyPrefix, readFirst: false }) });
  const { token, info } = await tokens.issue({ subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read', 'files:*'] });
  const counted = await tokens.issue({ subject: 'user-1', name: 'counted', maxUses: 1e9 });
  if (!(await tokens.verify(token)).ok) throw new Error('verify failed'); // touches lastUsedAt once
  const size = (await client.get(`${keyPrefix}t:{${info.hash}}`))!.length;
  // the raw GET reads a value of the same size under a key of the same length
  const rawKey = `${keyPrefix}t:{${'r'.repeat(info.hash.length)}}`;
  await client.set(rawKey, 'x'.repeat(size));
  const policy = { lastUsedResolution: 60_000 };

  // The driver's own ceiling for the same reads: the GETs of one turn sent as one MGET by hand,
  // which is what the store's batchReads does. Shown so the verify ratio is read honestly: at c64
  // the store beats a plain GET by batching, not by reading faster than the driver can.
  let pending: { resolve: (v: string | null) => void }[] = [];
  const mgetBatched = () =>
    new Promise<string | null>((resolve) => {
      if (pending.length === 0)
        queueMicrotask(() => {
          const w = pending;
          pending = [];
          void client.mget(w.map(() => rawKey)).then((vs) => vs.forEach((v, i) => w[i]!.resolve(v)));
        });
      pending.push({ resolve });
    });

  header(`@tokenaccess/redis: verify vs raw GET (${size}-byte value, ${url}, ioredis enableAutoPipelining)`);
  const rows: (string | number)[][] = [['case', 'concurrency', 'ops/s', 'raw GET ops/s', 'ratio (target ≥ 0.8)']];
  for (const concurrency of [1, 64]) {
    const m = await compare(
      [
        { name: 'get', run: () => client.get(rawKey) },
        { name: 'mget', run: mgetBatched },
        { name: 'verify', run: () => tokens.verify(token) },
        { name: 'consume', run: () => store.consume(info.hash, new Date(), policy) },
        { name: 'scripted', run: () => scripted.verify(token) },
        { name: 'counted', run: () => tokens.verify(counted.token) },
      ],
      { concurrency },
    );
    const get = m.get('get')!;
    const row = (label: string, name: string, target?: number) => {
      const v = m.get(name)!;
      rows.push([label, concurrency, v, get, target ? ratio(v / get, target) : (v / get).toFixed(2)]);
    };
    row('raw GETs of one turn as one MGET, by hand (the driver\'s ceiling)', 'mget');
    row('verify: unlimited token, fresh lastUsedAt (one GET, batched as MGET)', 'verify', 0.8);
    row('store.consume alone, same token (one GET)', 'consume');
    row('verify with readFirst: false (one EVALSHA)', 'scripted');
    row('verify: counted token, maxUses (one EVALSHA once known counted)', 'counted');
  }
  table(rows);

  header('@tokenaccess/redis: Node CPU per operation, 64 in flight (process.cpuUsage)');
  const memTokens = createTokenAccess({ store: memoryStore() });
  const memToken = (await memTokens.issue({ subject: 'user-1', name: 'm', scopes: ['users:read'] })).token;
  await memTokens.verify(memToken);
  table([
    ['operation', 'CPU µs per op'],
    ['raw GET (ioredis)', await cpuPerOp(() => client.get(rawKey), 64)],
    ['store.consume (GET + decode + evaluateConsume)', await cpuPerOp(() => store.consume(info.hash, new Date(), policy), 64)],
    ['verify (core + store.consume)', await cpuPerOp(() => tokens.verify(token), 64)],
    ['verify on memoryStore (core alone)', await cpuPerOp(() => memTokens.verify(memToken), 64)],
  ]);

  // memory: 1,000 tokens of 100 subjects, each with an expiry (so in every index)
  const n = 1000;
  const mem = createTokenAccess({ store: redisStore({ client, keyPrefix: memPrefix }) });
  for (let i = 0; i < n; i++) await mem.issue({ subject: `user-${i % 100}`, name: "John's MacBook Air", scopes: ['users:read'], expiresIn: '90d' });
  const groups = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${memPrefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const rest = key.slice(memPrefix.length);
      const group = rest.startsWith('t:')
        ? 't:{hash} (record)'
        : rest.startsWith('s:')
          ? 's:{subject} (zset)'
          : rest.startsWith('{ix:')
            ? '{ix:<b>}… (token index: leaves, directories)'
            : rest.startsWith('p:')
              ? 'p:{parent} (zset)'
              : `${rest} (other)`;
      groups.set(group, (groups.get(group) ?? 0) + Number((await client.memory('USAGE', key, 'SAMPLES', 0)) ?? 0));
    }
  } while (cursor !== '0');
  header(`@tokenaccess/redis: memory per token (MEMORY USAGE, ${n.toLocaleString('en-US')} tokens, 100 subjects, default prefix length)`);
  const order = ['t:{hash} (record)', 's:{subject} (zset)', '{ix:<b>}… (token index: leaves, directories)', 'p:{parent} (zset)'];
  const total = [...groups.values()].reduce((a, b) => a + b, 0);
  table([['key', 'bytes per token'], ...order.map((g) => [g, (groups.get(g) ?? 0) / n]), ['total', total / n]]);
}

main()
  .finally(async () => {
    await drop(keyPrefix);
    await drop(memPrefix);
    await client.quit();
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
