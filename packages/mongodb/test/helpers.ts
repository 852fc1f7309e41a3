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
