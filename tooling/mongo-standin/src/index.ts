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
 * fallback for machines where no real MongoDB can run; see README.md for what it leaves out.
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
import { Engine } from './commands';
import { encodeReply, FrameReader, parseRequest } from './wire';

export { SERVER_VERSION } from './commands';

/** A running stand-in. */
export interface MongoStandin {
  /** A `mongodb://` connection string for the official driver. */
  url: string;
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Closes every connection and the listener; the data is discarded. */
  close(): Promise<void>;
}

/** Options of {@link startMongoStandin}. */
export interface MongoStandinOptions {
  /** Port to listen on. @default 0 (any free port) */
  port?: number;
}

/**
 * Starts a stand-in MongoDB server on 127.0.0.1. Data lives in memory for the life of the
 * server.
 *
 * @example
 * ```ts
 * const { url, close } = await startMongoStandin();
 * ```
 */
export async function startMongoStandin(options: MongoStandinOptions = {}): Promise<MongoStandin> {
  const engine = new Engine();
  const sockets = new Set<net.Socket>();
  let nextConnectionId = 1;

  const server = net.createServer((socket) => {
    const connectionId = nextConnectionId++;
    const reader = new FrameReader();
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      try {
        const replies: Buffer[] = [];
        for (const frame of reader.push(chunk)) {
          const request = parseRequest(frame);
          if (!request) throw new Error(`mongo-standin: unsupported op code ${frame.readInt32LE(12)}`);
          // Commands run synchronously, one at a time: nothing can interleave inside one.
          const reply = engine.run(request.db, request.command, connectionId);
          if (!request.noReply) replies.push(encodeReply(request, reply));
        }
        if (replies.length) socket.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
      } catch {
        // A protocol error leaves the stream unparseable: drop the connection, as mongod does.
        socket.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
