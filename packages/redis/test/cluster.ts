import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, clientOptions, run, startRedisServer, waitFor } from './servers';

/** A Redis Cluster of `masters` nodes (and their replicas) this test started. */
export interface TestCluster {
  nodes: { host: string; port: number }[];
  /** Kills the node on `port` (SIGKILL: a crash, no failover handshake). */
  kill(port: number): Promise<void>;
  /** A new ioredis Cluster client on it (close it yourself). */
  client(options?: ConstructorParameters<typeof Cluster>[1]): Cluster;
  stop(): Promise<void>;
}

/** How to start a test Cluster. */
export interface ClusterOptions {
  /** Replicas per master. @default 0 */
  replicas?: number;
  /** `cluster-node-timeout` (ms): how long a master may be unreachable before a replica takes over. @default 5000 */
  nodeTimeout?: number;
}

/**
 * Starts a Redis Cluster from the installed `redis-server`: `masters` nodes (and `replicas` per
 * master) on free loopback ports, in a temp dir, without persistence; assigns the slots with
 * `redis-cli --cluster create` and waits until every node says `cluster_state:ok` (and every
 * replica's link to its master is up). Everything is stopped and removed by `stop()`, and also
 * when starting fails half-way.
 */
export async function startCluster(masters = 3, { replicas = 0, nodeTimeout = 5000 }: ClusterOptions = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tka-cluster-'));
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const count = masters * (1 + replicas);
    for (let i = 0; i < count; i++) {
      servers.push(
        await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', String(nodeTimeout)], dir),
      );
    }
    const addrs = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 60_000 });
    for (const s of servers) {
      await waitFor(
        async () => {
          const info = (await run('redis-cli', ['-p', String(s.port), 'cluster', 'info'])).stdout;
          if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${count}`)) return false;
          const role = (await run('redis-cli', ['-p', String(s.port), 'info', 'replication'])).stdout;
          return role.includes('role:master') || role.includes('master_link_status:up');
        },
        60_000,
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
    async kill(port) {
      await servers.find((s) => s.port === port)?.stop();
    },
    client: (options = {}) => new Cluster(nodes, { redisOptions: { ...clientOptions }, enableAutoPipelining: true, ...options }),
    stop,
  };
}

/**
 * Starts a Cluster in `beforeAll` and stops it (and its client) in `afterAll` of the calling
 * file or describe block. Read `cluster` and `client` inside tests, after `beforeAll` ran.
 */
export function useCluster(masters = 3, options: ClusterOptions = {}): { readonly cluster: TestCluster; readonly client: Cluster } {
  let cluster: TestCluster | undefined;
  let client: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(masters, options);
    client = cluster.client();
  }, 120_000);
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
