import type { TokenInfo } from '@tokenaccess/core';
import { newId } from '@tokenaccess/core';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { quoteIdent } from '../src/index';

/** The test server: local PostgreSQL unless TOKENACCESS_POSTGRES_URL says otherwise. */
export const POSTGRES_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A random schema name, with characters that need quoting so identifier quoting is exercised. */
export const randomSchema = (tag = 'test') => `tka_${tag}_${randomBytes(5).toString('hex')}-"q"`;

/** A pg Pool as users should make it: bounded connect time, and an `error` listener. */
export function testPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000, max: 10, ...config });
  pool.on('error', () => {
    // An idle connection died (the fault tests cut them on purpose); the Pool already dropped it.
  });
  return pool;
}

export async function dropSchema(client: { query(text: string, values?: unknown[]): Promise<unknown> }, schema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}

const hex = () => Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('');

/** A fresh access-token record with a random hash, for the store's own tests. */
export const record = (o: Partial<TokenInfo> = {}): TokenInfo => ({
  id: newId(Date.now()),
  kind: 'access',
  subject: 'input',
  name: 'n',
  scopes: ['*'],
  uses: 0,
  createdAt: new Date(),
  hint: 'tka_abcd',
  hash: hex(),
  ...o,
});
