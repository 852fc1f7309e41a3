/**
 * @module mongo-standin
 *
 * TEST TOOLING ONLY — private workspace, never published.
 *
 * An in-process stand-in for a MongoDB server: it speaks the MongoDB wire protocol (OP_MSG, and
 * OP_QUERY for the legacy handshake) over a real TCP socket on loopback, so the official
 * `mongodb` driver talks to it exactly as it talks to `mongod`. It implements the handful of
 * commands the tokenaccess MongoDB store sends, with MongoDB's semantics for them (query and
 * update language through `mingo`, unique indexes with E11000, atomic `findAndModify`). It is a
 * fallback for machines where no real MongoDB can run; see README.md for what it leaves out and
 * what a green run on it cannot prove.
 *
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { startMongoStandin } from 'mongo-standin';
 *
 * const server = await startMongoStandin();
 * const client = new MongoClient(server.url);
 * await client.db('test').collection('c').insertOne({ a: 1 });
 * await client.close();
 * await server.close();
 * ```
 */
import net from 'node:net';
import { Long, ObjectId } from 'bson';
import { Engine, type NodeInfo } from './commands';
import { nodeServer, type SeenCommand } from './node';

export { SERVER_VERSION } from './commands';
export type { SeenCommand } from './node';
export { startStallProxy, type StallProxy } from './proxy';

/** A running stand-in. */
export interface MongoStandin {
  /** A `mongodb://` connection string for the official driver (every member, and `replicaSet=`, for a replica set). */
  url: string;
  /** The port of the first node: the standalone, the mongos, or the replica set's primary (127.0.0.1). */
  port: number;
  /** Every node, in the order the URL names them. */
  nodes: { me: string; port: number; role: NodeInfo['role'] }[];
  /**
   * Calls `listener` with every command any node receives, as it came over the wire (before it
   * runs). Returns the function that stops it.
   */
  onCommand(listener: (seen: SeenCommand) => void): () => void;
  /** Replica set only: the secondaries catch up with the primary now. */
  replicate(): void;
  /** Runs one TTL monitor pass now (the primary's); returns how many documents it deleted. */
  expireNow(): number;
  /** Closes every connection and listener; the data is discarded. */
  close(): Promise<void>;
}

/** Options of {@link startMongoStandin}. */
export interface MongoStandinOptions {
  /** Port of the first node. @default 0 (any free port) */
  port?: number;
  /**
   * What it claims to be in `hello`: a standalone `mongod`; a `mongos` (`msg: 'isdbgrid'`, so the
   * driver sends `$readPreference` as it does to a router); or a replica set `rs0` of a primary
   * and `secondaries` secondaries, each on its own port. @default 'standalone'
   */
  topology?: 'standalone' | 'mongos' | 'replicaSet';
  /** Replica set only: how many secondaries. @default 1 */
  secondaries?: number;
  /**
   * Replica set only: a secondary serves a copy of the primary's data taken every this many ms,
   * so its reads lag as a real secondary's can. It refuses writes (`NotWritablePrimary`) and
   * primary reads (`NotPrimaryNoSecondaryOk`). `0`: only when {@link MongoStandin.replicate} is
   * called (a test that needs a stale secondary). @default 200
   */
  replicationLagMs?: number;
  /**
   * How often the TTL monitor runs, in ms (MongoDB: `ttlMonitorSleepSecs`, 60 s by default;
   * `setParameter` changes it at run time, here too). `0` turns it off. @default 1000
   */
  ttlMonitorSleepMs?: number;
}

const listen = (server: net.Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });

/**
 * Starts a stand-in MongoDB server on 127.0.0.1 (one node, or a replica set of several). Data
 * lives in memory for the life of the server.
 *
 * @example
 * ```ts
 * const { url, close } = await startMongoStandin({ topology: 'replicaSet' });
 * ```
 */
export async function startMongoStandin(options: MongoStandinOptions = {}): Promise<MongoStandin> {
  const topology = options.topology ?? 'standalone';
  const primary = new Engine();
  const listeners = new Set<(seen: SeenCommand) => void>();
  const observe = (seen: SeenCommand) => {
    for (const l of listeners) l(seen);
  };
  const version = () => ({ processId: new ObjectId(), counter: Long.fromNumber(0) });
  const count = topology === 'replicaSet' ? 1 + (options.secondaries ?? 1) : 1;
  const role = (i: number): NodeInfo['role'] => (topology === 'replicaSet' ? (i === 0 ? 'primary' : 'secondary') : topology);
  const members = Array.from({ length: count }, (_, i) => {
    const engine = i === 0 ? primary : new Engine();
    const node: NodeInfo = { me: '', role: role(i), topologyVersion: version() };
    return { engine, node, ...nodeServer(engine, node, observe) };
  });
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    for (const [i, m] of members.entries()) m.node.me = `127.0.0.1:${await listen(m.server, i === 0 ? (options.port ?? 0) : 0)}`;
  } catch (err) {
    for (const m of members) m.server.close();
    throw err;
  }
  const hosts = members.map((m) => m.node.me);
  if (topology === 'replicaSet') {
    const replicaSet = { setName: 'rs0', hosts, primary: hosts[0]!, electionId: new ObjectId() };
    for (const m of members) m.node.replicaSet = replicaSet;
    const lag = options.replicationLagMs ?? 200;
    for (const m of members.slice(1)) {
      m.engine.copyFrom(primary);
      if (lag <= 0) continue;
      const t = setInterval(() => m.engine.copyFrom(primary), lag);
      t.unref();
      timers.push(t);
    }
  }

  // MongoDB's TTL monitor, on the primary only: sleep ttlMonitorSleepSecs, a pass, again.
  // setParameter re-arms it, so a test that shortens the sleep need not wait out the old one.
  let ttlTimer: ReturnType<typeof setTimeout> | undefined;
  const armTtl = () => {
    clearTimeout(ttlTimer);
    if (primary.ttlMonitorSleepMs <= 0) return;
    ttlTimer = setTimeout(() => {
      primary.expire(new Date());
      armTtl();
    }, primary.ttlMonitorSleepMs);
    ttlTimer.unref();
  };
  primary.ttlMonitorSleepMs = options.ttlMonitorSleepMs ?? 1000;
  primary.onTtlSleepChange = armTtl;
  armTtl();

  const port = Number(hosts[0]!.split(':')[1]);
  return {
    url: topology === 'replicaSet' ? `mongodb://${hosts.join(',')}/?replicaSet=rs0` : `mongodb://${hosts[0]}/`,
    port,
    nodes: members.map((m) => ({ me: m.node.me, port: Number(m.node.me.split(':')[1]), role: m.node.role })),
    onCommand(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    replicate: () => {
      for (const m of members.slice(1)) m.engine.copyFrom(primary);
    },
    expireNow: () => primary.expire(new Date()),
    close: async () => {
      for (const t of timers) clearInterval(t);
      primary.ttlMonitorSleepMs = 0;
      clearTimeout(ttlTimer);
      await Promise.all(
        members.map(
          (m) =>
            new Promise<void>((resolve) => {
              for (const s of m.sockets) s.destroy();
              m.server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
