import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { afterAll, expect, it } from 'vitest';
import { quickstart } from './examples/quickstart';
import { backend, randomName } from './helpers';

const dbName = randomName('example');
afterAll(async () => {
  const client = new MongoClient(backend.url);
  await client.db(dbName).dropDatabase();
  await client.close();
});

it('runs the quickstart of docs/stores/mongodb.md', async () => {
  expect(await quickstart(backend.url, dbName)).toEqual({ api: true, first: true, second: 'exhausted' });
});

it('is shown unchanged on the docs page', () => {
  const source = readFileSync(new URL('./examples/quickstart.ts', import.meta.url), 'utf8');
  const page = readFileSync(new URL('../../../docs/stores/mongodb.md', import.meta.url), 'utf8');
  expect(page).toContain('```ts\n' + source + '```');
});
