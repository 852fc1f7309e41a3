// The README's example. Runs on import (the test points DATABASE_URL at a throwaway database).
import { createTokenAccess } from '@tokenaccess/core';
import { migrate, postgresStore } from '@tokenaccess/postgres';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2_000, query_timeout: 5_000 });
pool.on('error', (err) => console.error('[db] idle client error:', err.message)); // or Node crashes when an idle connection dies
await migrate(pool); // versioned, idempotent, safe from several processes at once
const tokens = createTokenAccess({ store: postgresStore({ client: pool }) });

const { token } = await tokens.issue({ subject: 'user-1', name: 'CI', scopes: ['repo:read'] });
export const result = await tokens.verify(token, { scopes: ['repo:read'] });
await pool.end();
