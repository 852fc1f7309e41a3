import type { AddressInfo } from 'node:net';
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
