import type { TokenStore } from '@tokenaccess/core';
import { CliError, EXIT, usage } from '../errors';
import { type OpenedStore, type StoreSettings, errText, once, redact, takeParams, withDeadline } from './shared';

export async function openRedis(raw: string, s: StoreSettings): Promise<OpenedStore> {
  const { url, params } = takeParams(raw, ['keyPrefix']);
  const keyPrefix = s.keyPrefix ?? params.keyPrefix;
  const [{ Redis }, redisMod] = await Promise.all([import('ioredis'), import('@tokenaccess/redis')]);
  let client: import('ioredis').Redis;
  try {
    // ioredis parses the URL here, and throws
    client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: s.connectTimeout,
      maxRetriesPerRequest: 1,
      // one attempt: a CLI reports an unreachable server instead of reconnecting forever
      retryStrategy: () => null,
      enableOfflineQueue: true,
      // disconnect() half-closes the socket and waits this long for the server before destroying
      // it (default 2 s): a server that never answers would hold the process that long
      disconnectTimeout: 100,
      ...(s.timeout > 0 ? { commandTimeout: s.timeout } : {}),
    });
  } catch (err) {
    throw usage(`bad Redis URL ${JSON.stringify(redact(url))}: ${errText(err)}`);
  }
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  // publish only: the CLI caches nothing, so it never subscribes (no second connection to close)
  const invalidation = s.publish ? redisMod.redisInvalidation({ client, heartbeat: 0, ...(s.channel !== undefined ? { channel: s.channel } : {}) }) : undefined;
  const close = once(async () => {
    await invalidation?.close();
    if (client.status === 'ready') {
      await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1000).unref())]).catch(() => {});
    }
    client.disconnect();
  });
  const where = `${redact(url)} (key prefix ${keyPrefix ?? 'tka:'})`;
  try {
    // connectTimeout bounds the TCP connect only; a server that accepts and never answers would
    // keep the ready check waiting, so the whole handshake gets the same bound
    await withDeadline(client.connect(), s.connectTimeout).catch((err: unknown) => {
      throw new CliError(`cannot connect to ${redact(url)}: ${errText(lastError ?? err)}`, EXIT.failure, { cause: err });
    });
    const store = redisStore(redisMod, client, keyPrefix, s.timeout);
    return {
      store,
      backend: 'redis',
      label: where,
      migrate: async () => `${where} needs no migration (Redis has no schema)`,
      ...(invalidation ? { invalidation } : {}),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function redisStore(mod: typeof import('@tokenaccess/redis'), client: import('ioredis').Redis, keyPrefix: string | undefined, timeout: number): TokenStore {
  // the CLI serves no verifies: its sweep may take the whole event loop (sweepPace 'full')
  return mod.redisStore({ client, timeout, sweepPace: 'full', ...(keyPrefix !== undefined ? { keyPrefix } : {}) });
}
