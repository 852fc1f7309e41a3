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
    createStore: async () => {
      const schema = randomSchema();
      await migrate(pool, { schema });
      const store = postgresStore({ client: pool, schema, fastPathSize });
      schemas.set(store, schema);
      return store;
    },
    cleanup: (store) => dropSchema(pool, schemas.get(store)!),
  });
}
