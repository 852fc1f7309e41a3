import net from 'node:net';

/**
 * A TCP proxy the test controls, for fault tests: `cut()` destroys every connection and refuses
 * new ones (like a dead network path: connections hang when `mode` is `'blackhole'`, are reset
 * when `'reset'`), `restore()` lets traffic through again.
 */
export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). */
  port: number;
  cut(mode?: 'reset' | 'blackhole'): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let state: 'open' | 'reset' | 'blackhole' = 'open';
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (state === 'reset') return void client.resetAndDestroy();
    if (state === 'blackhole') return; // accept and never answer
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut(mode = 'reset') {
      state = mode;
      for (const s of sockets) mode === 'reset' ? s.resetAndDestroy() : s.pause();
      if (mode === 'blackhole') for (const s of sockets) s.unpipe();
    },
    restore() {
      state = 'open';
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * `p`'s value, or `'timer fired first'` when `ms` pass before it settles (a hang, or a deadline
 * too long): how the fault tests check that a store answers within its deadline without
 * measuring time.
 */
export function beforeTimer<T>(p: Promise<T>, ms: number): Promise<T | 'timer fired first'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fired = new Promise<'timer fired first'>((resolve) => {
    timer = setTimeout(() => resolve('timer fired first'), ms);
  });
  return Promise.race([p, fired]).finally(() => clearTimeout(timer));
}
export { serveCacheWorker, startCacheWorker } from './cache-worker';
