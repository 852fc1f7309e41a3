import type { TokenStore } from '@tokenaccess/core';
import { migrate, postgresStore } from '../src/index';
import { storeTestSuite } from '@tokenaccess/test-suite';
import { afterAll } from 'vitest';
import { dropSchema, randomSchema, testPool } from './helpers';

const pool = testPool({ max: 10 });
const schemas = new WeakMap<TokenStore, string>();
afterAll(() => pool.end());

for (const [name, fastPathSize] of [
  ['postgres (pg Pool)', undefined],
  ['postgres (pg Pool, fastPathSize 0: every consume is the UPDATE statement)', 0],
] as const) {
  storeTestSuite({
    name,
    // semantics, not deadlines (faults.test.ts has those): a loaded machine must not turn 200
    // parallel consumes on a 10-connection pool into `unavailable`
    createStore: async () => {
      const schema = randomSchema();
      await migrate(pool, { schema });
      const store = postgresStore({ client: pool, schema, fastPathSize, timeout: 30_000 });
      schemas.set(store, schema);
      return store;
    },
    // another instance, with its own fast-path hints, as another process would have
    reopen: (store) => postgresStore({ client: pool, schema: schemas.get(store)!, fastPathSize, timeout: 30_000 }),
    cleanup: (store) => dropSchema(pool, schemas.get(store)!),
  });
}
