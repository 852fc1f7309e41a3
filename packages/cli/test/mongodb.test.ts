import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { TokenStore } from '@tokenaccess/core';
import { mongoStore } from '@tokenaccess/mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowTests } from './flow';
import { ok, tempDir } from './helpers';

/**
 * No MongoDB server can run here, so this backend is exercised against `mongo-standin` (the
 * repo's wire-protocol stand-in, a devDependency: if it does not load, the run fails), or against
 * TOKENACCESS_MONGODB_URL when set.
 */
const external = process.env.TOKENACCESS_MONGODB_URL;

describe('MongoDB (--store mongodb://…/<db> --collection …)', () => {
  const collection = `tka_cli_${randomBytes(5).toString('hex')}`;
  let url: string;
  let server: { close(): Promise<void> } | undefined;
  let client: MongoClient;
  let dir: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir('mongo'));
    if (external) url = external;
    else {
      const s = await (await import('mongo-standin')).startMongoStandin();
      server = s;
      url = s.url;
    }
    client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.db('tka_cli_test').collection(collection).drop().catch(() => {});
    await client?.close();
    await server?.close();
    await remove?.();
  });

  /** The URL with the database in its path: `mongodb://host:port/tka_cli_test?…`. */
  const storeUrl = () => url.replace(/^(mongodb:\/\/[^/?]+)\/?[^?]*/, '$1/tka_cli_test');

  it('migrate creates the indexes', async () => {
    const r = await ok(['migrate', '--store', storeUrl(), '--collection', collection], { cwd: dir });
    expect(r.stdout).toContain(`(database tka_cli_test, collection ${collection})`);
    const names = (await client.db('tka_cli_test').collection(collection).indexes()).map((i) => i.name);
    expect(names.length).toBeGreaterThan(1);
  });

  const withStore = async <T>(fn: (store: TokenStore) => Promise<T>) => fn(mongoStore({ db: client.db('tka_cli_test'), collection }));
  flowTests({ args: () => ['--store', storeUrl(), '--collection', collection], options: () => ({ cwd: dir }), withStore });
});
