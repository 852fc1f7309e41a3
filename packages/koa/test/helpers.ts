import { type AddressInfo, connect } from 'node:net';
import type { Server } from 'node:http';
import type Koa from 'koa';
import { type TokenStore, createTokenAccess, memoryStore } from '@tokenaccess/core';

export interface Running {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts a Koa app on an ephemeral port (a real HTTP server, driven with fetch). */
export async function listen(app: Koa<any, any>): Promise<Running> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A token service on a fresh memory store, with a clock the test can move. */
export function setup(extra: { store?: TokenStore } = {}) {
  let now = Date.now();
  const tokens = createTokenAccess({ store: extra.store ?? memoryStore(), clock: () => now, onHookError: () => {} });
  return { tokens, advance: (ms: number) => (now += ms) };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A store whose every method rejects: the one way to make a store "fail" deterministically. */
export function brokenStore(): TokenStore {
  const fail = () => Promise.reject(new Error('connection refused (deliberately broken store)'));
  return { insert: fail, findByHash: fail, findById: fail, consume: fail, list: fail, deleteById: fail, deleteByHash: fail, deleteBySubject: fail, sweep: fail };
}

export interface RawResponse {
  status: number;
  /** The last value of each header, by lower-case name. */
  headers: Record<string, string>;
  /** Every header line in order, `[lower-case name, value]`: repeated headers (Set-Cookie) each once. */
  headerLines: [string, string][];
  body: string;
}

/**
 * Sends one request written byte for byte over a socket (`fetch` and `http.request` would
 * normalise or re-encode the request target), with `Connection: close`, and reads the response.
 *
 * @example rawRequest(srv, 'GET /admin/../files?id=7 HTTP/1.1', { host: 'a.test' })
 */
export function rawRequest(srv: Running, requestLine: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { port } = srv.server.address() as AddressInfo;
  const head = [requestLine, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(head, 'latin1'));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1'); // byte offsets, for chunk sizes
      const split = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, split).split('\r\n');
      const out: Record<string, string> = {};
      const headerLines: [string, string][] = lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]);
      for (const [name, value] of headerLines) out[name] = value;
      let body = text.slice(split + 4);
      if (out['transfer-encoding'] === 'chunked') {
        let decoded = '';
        for (let i = 0; ; ) {
          const eol = body.indexOf('\r\n', i);
          const size = parseInt(body.slice(i, eol), 16);
          if (!size) break;
          decoded += body.slice(eol + 2, eol + 2 + size);
          i = eol + 2 + size + 2;
        }
        body = decoded;
      }
      resolve({ status: Number(lines[0]!.split(' ')[1]), headers: out, headerLines, body: Buffer.from(body, 'latin1').toString('utf8') });
    });
  });
}
