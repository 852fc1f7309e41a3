import net from 'node:net';
import type { Document } from 'bson';
import type { ConnectionInfo, Engine, FailAction, NodeInfo } from './commands';
import { encodeReply, FrameReader, parseRequest, type Request } from './wire';

/** A command as a node received it, before it ran: what a test inspects (`$readPreference`, `maxTimeMS`, …). */
export interface SeenCommand {
  /** The node's `host:port`. */
  node: string;
  role: NodeInfo['role'];
  db: string;
  /** The command document as it came over the wire (document sequences folded in). */
  command: Document;
  /** The client's `appName`, from its handshake. */
  appName?: string;
}

const HELLO = new Set(['hello', 'isMaster', 'ismaster']);
const FAILED = "Failing command via 'failCommand' failpoint";

/**
 * One listening node: it parses frames, runs each command on its engine, and answers in order
 * on each connection. Commands run synchronously, one at a time, so nothing interleaves inside
 * one; only a `failCommand` fail point with `blockConnection` holds a connection's queue (never
 * the engine). An awaitable `hello` (server-monitoring spec: `topologyVersion` and
 * `maxAwaitTimeMS`) is answered after `maxAwaitTimeMS`, and with `exhaustAllowed` it streams:
 * every reply carries `moreToCome` and the next follows `maxAwaitTimeMS` later, until the client
 * closes the connection.
 */
export function nodeServer(engine: Engine, node: NodeInfo, observe: (seen: SeenCommand) => void): { server: net.Server; sockets: Set<net.Socket> } {
  const sockets = new Set<net.Socket>();
  let nextConnectionId = 1;

  const server = net.createServer((socket) => {
    const connection: ConnectionInfo = { id: nextConnectionId++, node };
    const reader = new FrameReader();
    const queue: Request[] = [];
    const timers = new Set<ReturnType<typeof setTimeout>>();
    let blocked = false;
    let appName: string | undefined;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => {
      sockets.delete(socket);
      for (const t of timers) clearTimeout(t);
    });
    socket.on('error', () => socket.destroy());

    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!socket.destroyed) fn();
      }, ms);
      timers.add(t);
    };

    /** The reply to a command (after a fail point's block, if any); null: close the connection. */
    const execute = (request: Request, action: FailAction | undefined): Document | null => {
      if (action?.closeConnection) return null;
      if (action?.errorCode !== undefined) return { ok: 0, errmsg: FAILED, code: action.errorCode };
      return engine.run(request.db, request.command, connection);
    };

    const stream = (request: Request, wait: number) =>
      later(wait, () => {
        const reply = engine.run(request.db, request.command, connection);
        const more = request.exhaustAllowed && reply.ok === 1;
        socket.write(encodeReply(request, reply, more));
        if (more) stream(request, Number(request.command.maxAwaitTimeMS));
      });

    const pump = () => {
      const out: Buffer[] = [];
      const flush = () => {
        if (out.length) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
        out.length = 0;
      };
      while (!blocked && queue.length > 0) {
        const request = queue.shift()!;
        const { command } = request;
        const name = Object.keys(command)[0] ?? '';
        if (HELLO.has(name) && appName === undefined) appName = command.client?.application?.name;
        observe({ node: node.me, role: node.role, db: request.db, command, ...(appName !== undefined ? { appName } : {}) });
        if (HELLO.has(name) && command.maxAwaitTimeMS !== undefined && command.topologyVersion) {
          // same process: wait for a change (never, here) or maxAwaitTimeMS; another process: answer now
          const same = String(command.topologyVersion.processId) === String(node.topologyVersion.processId);
          stream(request, same ? Number(command.maxAwaitTimeMS) : 0);
          continue;
        }
        const action = engine.failFor(command, appName);
        if (action?.blockConnection && (action.blockTimeMS ?? 0) > 0) {
          blocked = true;
          flush();
          later(action.blockTimeMS!, () => {
            blocked = false;
            const reply = execute(request, action);
            if (reply === null) return void socket.destroy();
            if (!request.noReply) socket.write(encodeReply(request, reply));
            pump();
          });
          return;
        }
        const reply = execute(request, action);
        if (reply === null) return void socket.destroy();
        if (!request.noReply) out.push(encodeReply(request, reply));
      }
      flush();
    };

    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) {
          const request = parseRequest(frame);
          if (!request) throw new Error(`mongo-standin: unsupported op code ${frame.readInt32LE(12)}`);
          queue.push(request);
        }
      } catch {
        // A protocol error leaves the stream unparseable: drop the connection, as mongod does.
        return void socket.destroy();
      }
      pump();
    });
  });
  return { server, sockets };
}
