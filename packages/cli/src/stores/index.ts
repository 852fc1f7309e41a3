import { resolve } from 'node:path';
import { memoryStore } from '@tokenaccess/core';
import { usage } from '../errors';
import { openMongo } from './mongodb';
import { openPglite, openPostgres } from './postgres';
import { openRedis } from './redis';
import { EMBEDDED_DIR, type OpenedStore, type StoreSettings, redact, takeParams } from './shared';

export { EMBEDDED_DIR, closeAllStores, redact, type OpenedStore, type StoreSettings } from './shared';

/**
 * Opens the store a URL names. Drivers are imported here, lazily, so only the chosen one loads.
 *
 * - `postgres://…` / `postgresql://…` (`?schema=`, `?table=`): a pg Pool.
 * - `pglite:<dir>` (`?schema=`, `?table=`): PGlite on a directory, migrated automatically.
 * - `redis://…` / `rediss://…` (`?keyPrefix=`): ioredis.
 * - `mongodb://…` / `mongodb+srv://…` (`?collection=`; database from the path, default `tokenaccess`).
 * - `memory:`: a memory store that lives as long as this process.
 * - nothing: PGlite in `<cwd>/.tokenaccess/`, created and migrated on first use.
 */
export async function openStore(s: StoreSettings): Promise<OpenedStore> {
  const url = s.url?.trim();
  if (!url) return openPglite(resolve(s.cwd, EMBEDDED_DIR), s, true);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return openPostgres(url, s);
    case 'pglite': {
      const { url: rest, params } = takeParams(url, ['schema', 'table']);
      const dir = rest.slice('pglite:'.length).replace(/^\/\/(?=\/)/, '');
      if (!dir) throw usage('pglite: needs a directory, e.g. pglite:./tokens-db');
      return openPglite(resolve(s.cwd, dir), { ...s, schema: s.schema ?? params.schema, table: s.table ?? params.table }, false);
    }
    case 'redis':
    case 'rediss':
      return openRedis(url, s);
    case 'mongodb':
    case 'mongodb+srv':
      return openMongo(url, s);
    case 'memory':
      if (url !== 'memory:' && url !== 'memory://') throw usage(`memory: takes no location (got ${JSON.stringify(url)})`);
      s.notice('the memory: store lives only as long as this command: tokens issued here are gone when it exits');
      return {
        store: memoryStore(),
        backend: 'memory',
        label: 'memory: (this process only)',
        migrate: async () => 'the memory store needs no migration',
        close: async () => {},
      };
    default:
      throw usage(
        `unsupported store URL ${JSON.stringify(redact(url).slice(0, 80))}`,
        'use postgres://…, redis://…, mongodb://…, pglite:<dir> or memory: (or no --store for the embedded store in ./.tokenaccess)',
      );
  }
}

