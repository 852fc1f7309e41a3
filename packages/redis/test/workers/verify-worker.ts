/**
 * One of the processes of the cross-process concurrency test: connects (to REDIS_URL, or to the
 * Cluster CLUSTER_NODES), says `ready`, waits for `go` on stdin, fires PARALLEL verifies of TOKEN at once and prints how many succeeded.
 * With CLOCK (epoch ms) its clock stands still there (processes whose clocks disagree); with
 * ROUNDS the verifies go in that many rounds one after the other, so processes interleave finely.
 * With STATUS a refusal is counted as `<code> <status>` (`rate_limited 429`).
 * Run with `node --import tsx` and TSX_TSCONFIG_PATH pointing at this folder's tsconfig, so
 * workspace packages load from source.
 */
import { createTokenAccess } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { Cluster, Redis } from 'ioredis';

const { REDIS_URL, CLUSTER_NODES, KEY_PREFIX, TOKEN, PARALLEL, CLOCK, ROUNDS, STATUS } = process.env as Record<string, string | undefined>;
// counting across processes, not deadlines: generous timeouts, so a loaded machine is not a failure
const redisOptions = { maxRetriesPerRequest: 1, commandTimeout: 30_000 };
const client = CLUSTER_NODES
  ? new Cluster(JSON.parse(CLUSTER_NODES) as { host: string; port: number }[], { enableAutoPipelining: true, redisOptions })
  : new Redis(REDIS_URL!, { ...redisOptions, enableAutoPipelining: true });
const tokens = createTokenAccess({
  store: redisStore({ client, keyPrefix: KEY_PREFIX!, timeout: 30_000 }),
  timeout: 30_000,
  ...(CLOCK ? { clock: () => Number(CLOCK) } : {}),
});

await client.get(`${KEY_PREFIX}warm-up`); // connected (and, on a Cluster, slots known)
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const rounds = Number(ROUNDS ?? 1);
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(...(await Promise.all(Array.from({ length: Number(PARALLEL) / rounds }, () => tokens.verify(TOKEN!)))));
  const codes: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? 'ok' : STATUS ? `${r.error.code} ${r.error.status}` : r.error.code;
    codes[key] = (codes[key] ?? 0) + 1;
  }
  process.stdout.write(`${JSON.stringify(codes)}\n`);
  await client.quit();
  process.exit(0);
});
