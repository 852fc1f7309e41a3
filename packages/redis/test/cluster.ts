import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, clientOptions, run, startRedisServer, waitFor } from './servers';

/** A Redis Cluster of `masters` nodes this test started. */
export interface TestCluster {
  nodes: { host: string; port: number }[];
  /** A new ioredis Cluster client on it (close it yourself). */
  client(options?: ConstructorParameters<typeof Cluster>[1]): Cluster;
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster from the installed `redis-server`: `masters` nodes (no replicas) on
 * free loopback ports, in a temp dir, without persistence; assigns the slots with
 * `redis-cli --cluster create` and waits until every node says `cluster_state:ok`. Everything is
 * stopped and removed by `stop()`, and also when starting fails half-way.
 */
export async function startCluster(masters = 3): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tka-cluster-'));
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(
        await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '5000'], dir),
      );
    }
    const addrs = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const s of servers) {
      await waitFor(
        async () => {
          const info = (await run('redis-cli', ['-p', String(s.port), 'cluster', 'info'])).stdout;
          return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`);
        },
        20_000,
        `cluster_state:ok on ${s.port}`,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  return {
    nodes,
    client: (options = {}) => new Cluster(nodes, { redisOptions: { ...clientOptions }, enableAutoPipelining: true, ...options }),
    stop,
  };
}

/**
 * Starts a Cluster in `beforeAll` and stops it (and its client) in `afterAll` of the calling
 * file or describe block. Read `cluster` and `client` inside tests, after `beforeAll` ran.
 */
export function useCluster(masters = 3): { readonly cluster: TestCluster; readonly client: Cluster } {
  let cluster: TestCluster | undefined;
  let client: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(masters);
    client = cluster.client();
  }, 60_000);
  afterAll(async () => {
    await client?.quit().catch(() => undefined);
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('the test cluster is not started (read it inside a test)');
      return cluster;
    },
    get client() {
      if (!client) throw new Error('the test cluster is not started (read it inside a test)');
      return client;
    },
  };
}
