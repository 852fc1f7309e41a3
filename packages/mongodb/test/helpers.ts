import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, inject } from 'vitest';

/** The backend global-setup.ts picked for this run. */
export const backend = { url: inject('mongodbUrl'), kind: inject('mongodbBackend') };

/** Tests share one database and isolate themselves by collection name. */
export const DB_NAME = 'tokenaccess_test';

export const randomName = (prefix = 'tokens') => `${prefix}_${randomBytes(6).toString('hex')}`;

/** A client for this test file (closed after it), and the shared test database. */
export function useClient(options: ConstructorParameters<typeof MongoClient>[1] = {}): { client: MongoClient; db: Db } {
  const client = new MongoClient(backend.url, { serverSelectionTimeoutMS: 5_000, ...options });
  afterAll(() => client.close());
  return { client, db: client.db(DB_NAME) };
}

/**
 * Sets MongoDB's `failCommand` fail point (`mode` and `data` as `configureFailPoint` takes them),
 * or turns it off with `'off'`. Returns false when the server has no test commands (a mongod
 * without `--setParameter enableTestCommands=1`, Atlas): the caller skips, saying why.
 */
export async function failPoint(client: MongoClient, mode: unknown, data: Record<string, unknown> = {}): Promise<boolean> {
  try {
    await client.db('admin').command({ configureFailPoint: 'failCommand', mode, data });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 59 || /no such (cmd|command)/i.test(String((err as Error).message))) return false;
    throw err;
  }
}
