import { PGlite } from '@electric-sql/pglite';
import type { TokenStore } from '@tokenaccess/core';
import { migrate, postgresStore } from '../src/index';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { afterAll } from 'vitest';
import { dropSchema, randomSchema } from './helpers';

const db = new PGlite();
const schemas = new WeakMap<TokenStore, string>();
afterAll(() => db.close());

storeTestSuite({
  name: 'postgres (PGlite)',
  createStore: async () => {
    const schema = randomSchema('lite');
    await migrate(db, { schema });
    const store = postgresStore({ client: db, schema, timeout: 30_000 });
    schemas.set(store, schema);
    return store;
  },
  reopen: (store) => postgresStore({ client: db, schema: schemas.get(store)!, timeout: 30_000 }),
  cleanup: (store) => dropSchema(db, schemas.get(store)!),
});
