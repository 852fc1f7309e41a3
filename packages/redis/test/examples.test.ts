import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { standalone } from './examples/quickstart';
import { REDIS_URL, dropPrefix, randomPrefix } from './servers';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const admin = new Redis(REDIS_URL);
const keyPrefix = randomPrefix();
afterAll(async () => {
  await dropPrefix(admin, keyPrefix);
  await admin.quit();
});

it('runs the standalone example of docs/stores/redis.md', async () => {
  const r = await standalone(REDIS_URL, keyPrefix);
  expect(r.verified.ok && r.verified.token.id).toBe(r.info.id);
  expect(!r.denied.ok && r.denied.error).toMatchObject({ code: 'insufficient_scope', status: 403 });
  expect(r.opened.ok).toBe(true);
  expect(r.reopened.ok ? 'ok' : r.reopened.error.code).toBe('exhausted');
  expect(r.listed.items.map((t) => t.id)).toEqual([r.info.id]);
  expect(r.revoked).toBe(1);
});

it('the docs page shows this very example file, and no code that is not in it', async () => {
  const example = (await readFile(here('./examples/quickstart.ts'), 'utf8')).trim();
  const docs = await readFile(here('../../../docs/stores/redis.md'), 'utf8');
  expect(docs).toContain(example);
  const blocks = [...docs.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  expect(blocks.length).toBeGreaterThan(0);
  for (const block of blocks) expect(example).toContain(block);
});
