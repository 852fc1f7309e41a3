import { createTokenAccess } from '@tokenaccess/core';
import { migrate, postgresStore } from '@tokenaccess/postgres';
import pg from 'pg';

export async function setupTokens(connectionString: string, schema = 'auth') {
  const pool = new pg.Pool({
    connectionString,
    max: 20,
    connectionTimeoutMillis: 2_000, // bound the wait for a new connection
    query_timeout: 5_000, // client-side bound per query (pg then drops the connection)
    statement_timeout: 5_000, // server-side bound per statement
  });
  // Without a listener, an idle connection that dies (restart, failover, network) crashes Node.
  pool.on('error', (err) => console.error('[db] idle client error:', err.message));

  await migrate(pool, { schema }); // safe to run from every instance at start-up
  const store = postgresStore({ client: pool, schema, timeout: 2_000 });
  const tokens = createTokenAccess({ store });

  // Expired and used-up tokens are refused at once; sweep removes them from the table.
  const sweeper = setInterval(() => {
    store.sweep(new Date(), { batchSize: 1000 }).catch((err) => console.error('[tokens] sweep failed:', err));
  }, 15 * 60_000);
  sweeper.unref();

  return { pool, store, tokens, close: async () => (clearInterval(sweeper), pool.end()) };
}
