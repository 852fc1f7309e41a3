import { type TokenStore, memoryStore } from '@tokenaccess/core';

export interface OpenedStore {
  store: TokenStore;
  /** What to print: the URL without its password. */
  label: string;
  close(): Promise<void>;
}

/**
 * Opens the store named by `TOKENACCESS_STORE`:
 * `memory:` (default) | `pglite:` (embedded Postgres, in memory) | `pglite:./data` (on disk, owner-only) |
 * `postgres://…` | `redis://…`. The Postgres and Redis packages are imported only when asked
 * for, so the default path needs neither.
 */
export async function openStore(url = 'memory:', options: { schema?: string; keyPrefix?: string } = {}): Promise<OpenedStore> {
  // the CLI's default prefix too, so `tokenaccess --store redis://…` sees this server's tokens
  const { schema, keyPrefix = 'tka:' } = options;
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  const label = url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  switch (scheme) {
    case 'memory:':
      return { store: memoryStore(), label: 'memory: (tokens are lost on restart)', close: async () => {} };
    case 'pglite:': {
      const [{ PGlite }, { migrate, postgresStore }, cli] = await Promise.all([import('@electric-sql/pglite'), import('@tokenaccess/postgres'), import('@tokenaccess/cli')]);
      const dataDir = url.slice('pglite:'.length);
      // On disk it holds token hashes and use counts: owner-only (0700, files 0600), and a directory
      // others can write is refused, by the same checks as the tokenaccess command's own store.
      if (dataDir) cli.preparePrivateDir(dataDir, { marker: 'PG_VERSION' });
      const db = dataDir ? await cli.withPrivateUmask(async () => { const d = new PGlite(dataDir); await d.waitReady; return d; }) : new PGlite();
      // PGlite chmods a new database's files to 0666 itself, and PostgreSQL writes a few 0644 ones
      const restrict = () => void (dataDir && cli.restrictPrivateDir(dataDir));
      restrict();
      await migrate(db, schema ? { schema } : {});
      return { store: postgresStore({ client: db, ...(schema ? { schema } : {}) }), label, close: () => db.close().then(restrict) };
    }
    case 'postgres:':
    case 'postgresql:': {
      const [{ default: pg }, { migrate, postgresStore }] = await Promise.all([import('pg'), import('@tokenaccess/postgres')]);
      const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 2000 });
      pool.on('error', (err) => console.error('[koa-api] idle Postgres connection failed:', err.message));
      await migrate(pool, schema ? { schema } : {});
      return { store: postgresStore({ client: pool, ...(schema ? { schema } : {}) }), label, close: () => pool.end() };
    }
    case 'redis:':
    case 'rediss:': {
      const [{ Redis }, { redisStore }] = await Promise.all([import('ioredis'), import('@tokenaccess/redis')]);
      const client = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, enableAutoPipelining: true });
      // until the first answer, a failure is reported once, by the ping below (start-up: one line)
      const quiet = () => {};
      client.on('error', quiet);
      try {
        await client.ping();
      } catch (err) {
        client.disconnect();
        throw err;
      }
      client.off('error', quiet);
      client.on('error', (err) => console.error('[koa-api] Redis:', err.message));
      return { store: redisStore({ client, keyPrefix }), label, close: async () => void (await client.quit()) };
    }
    default:
      throw new Error(`[koa-api] TOKENACCESS_STORE must start with memory:, pglite:, postgres://, postgresql:// or redis:// (got ${JSON.stringify(label)})`);
  }
}
