import net from 'node:net';

/**
 * A TCP proxy for blackout drills that, unlike a proxy that closes connections, shows what a
 * dead network path does to a client: nothing arrives and nothing is closed.
 */
export interface StallProxy {
  /** Port it listens on (127.0.0.1). */
  port: number;
  /** `mongodb://127.0.0.1:<port>/` plus `query`. */
  url(query?: string): string;
  /**
   * The path goes dead: from now on no byte is delivered in either direction, on open
   * connections and on new ones (accepted, so a connect succeeds, but their handshake never gets
   * an answer, as a connect whose SYN-ACK is lost would time out). No socket is closed: a client
   * finds out only through its own timeouts. Bytes sent meanwhile are held, as TCP's
   * retransmission queue holds them.
   */
  blackhole(): void;
  /**
   * The path comes back. By default TCP retransmits: the held bytes are delivered, late, on the
   * same connections. With `reset: true` the blackout outlasted TCP's retransmission timeout: every
   * connection made before is reset, and only new ones carry traffic.
   */
  heal(options?: { reset?: boolean }): void;
  /** Connections open through the proxy right now (client side). */
  readonly connections: number;
  /** Bytes held since the blackout began, both directions. */
  readonly held: number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Bytes held for the upstream (requests) and for the client (replies). */
  up: Buffer[];
  down: Buffer[];
}

/**
 * Starts a {@link StallProxy} in front of `target`.
 *
 * @example
 * ```ts
 * const proxy = await startStallProxy({ host: '127.0.0.1', port: 27017 });
 * const client = new MongoClient(proxy.url('directConnection=true'));
 * proxy.blackhole(); // … the drill …
 * proxy.heal();
 * ```
 */
export async function startStallProxy(target: { host: string; port: number }): Promise<StallProxy> {
  let dead = false;
  let held = 0;
  const pairs = new Set<Pair>();

  const connectUpstream = (pair: Pair) => {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('data', (chunk: Buffer) => {
      if (dead) {
        held += chunk.length;
        pair.down.push(chunk);
      } else pair.client.write(chunk);
    });
    upstream.on('error', () => upstream.destroy());
    upstream.on('close', () => pair.client.destroy());
    for (const chunk of pair.up.splice(0)) upstream.write(chunk);
  };

  const server = net.createServer((client) => {
    const pair: Pair = { client, upstream: undefined, up: [], down: [] };
    pairs.add(pair);
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (dead || !pair.upstream) {
        if (dead) held += chunk.length;
        pair.up.push(chunk);
      } else pair.upstream.write(chunk);
    });
    client.on('error', () => client.destroy());
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (!dead) connectUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (query = '') => `mongodb://127.0.0.1:${port}/${query ? `?${query}` : ''}`,
    blackhole() {
      dead = true;
      held = 0;
    },
    heal(options = {}) {
      dead = false;
      for (const pair of [...pairs]) {
        if (options.reset) {
          pair.client.resetAndDestroy();
          pair.upstream?.destroy();
          continue;
        }
        if (!pair.upstream) connectUpstream(pair);
        else for (const chunk of pair.up.splice(0)) pair.upstream.write(chunk);
        for (const chunk of pair.down.splice(0)) pair.client.write(chunk);
      }
    },
    get connections() {
      return pairs.size;
    },
    get held() {
      return held;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
