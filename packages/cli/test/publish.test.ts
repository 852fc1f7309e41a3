/**
 * CLI changes reach running services: a worker process whose verify cache holds a token (ttl
 * 1 h) refuses it once the CLI revokes, disables, updates or rotates it, through the store's
 * change feed (Redis pub/sub, PostgreSQL NOTIFY). With --no-publish it is not told, and keeps
 * answering from its cache: the publish is what makes the difference.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { quoteIdent } from '@tokenaccess/postgres';
import { startCacheWorker } from 'test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, REDIS_URL, ok, randomName, start, tempDir } from './helpers';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

type Worker = Awaited<ReturnType<typeof startCacheWorker>>;

/** The ops every backend runs: each CLI change, and the code the worker must come to answer. */
function publishTests(setup: () => { args: string[]; worker: () => Promise<Worker>; cwd: string }): void {
  const issue = async (subject: string, extra: string[] = []) => {
    const { args, cwd } = setup();
    return JSON.parse((await ok(['issue', subject, ...extra, '--json', ...args], { cwd })).stdout) as { token: string; info: { id: string } };
  };

  it('revoke, disable, update and rotate are refused by a service whose cache holds the token', async () => {
    const { args, cwd, worker } = setup();
    const w = await worker();
    try {
      const cases: [string, (id: string, token: string) => string[], string[]][] = [
        ['revoke', (id) => ['revoke', id], ['not_found']],
        ['revoke by token', (_id, token) => ['revoke', token], ['not_found']],
        ['disable', (id) => ['disable', id], ['disabled']],
        // a count to keep: no longer cacheable, so verifies reach the store (ok once, then used up)
        ['update', (id) => ['update', id, '--max-uses', '1'], ['exhausted', 'not_found']],
        ['rotate', (id) => ['rotate', id], ['expired', 'not_found']],
      ];
      for (const [what, command, want] of cases) {
        const { token, info } = await issue(`pub-${what.replace(/ /g, '-')}`);
        expect(await w.send({ op: 'warm', token }), what).toEqual({ code: 'ok', cached: true });
        // the cache answers without the store while nothing is published
        expect(await w.send({ op: 'verify', token }), what).toEqual({ code: 'ok', reads: 0 });
        await ok([...command(info.id, token), ...args], { cwd });
        // no bound on how fast: polled until refused, failing only if it never is (ttl is 1 h)
        const r = await w.send<{ code: string }>({ op: 'until', token, code: want, max: 20_000 });
        expect(want, what).toContain(r.code);
      }
    } finally {
      w.kill();
    }
  }, 120_000);

  it('--no-publish: the service is not told and still answers from its cache', async () => {
    const { args, cwd, worker } = setup();
    const w = await worker();
    try {
      const { token, info } = await issue('pub-quiet');
      expect(await w.send({ op: 'warm', token })).toEqual({ code: 'ok', cached: true });
      await ok(['revoke', info.id, '--no-publish', ...args], { cwd });
      // the store no longer has it, the worker's cache (1 h) does: no message came
      expect(await w.send({ op: 'verify', token })).toEqual({ code: 'ok', reads: 0 });
      // the same with publishing: told, and refused
      const other = await issue('pub-quiet-2');
      expect(await w.send({ op: 'warm', token: other.token })).toEqual({ code: 'ok', cached: true });
      await ok(['revoke', other.info.id, ...args], { cwd });
      expect(await w.send({ op: 'until', token: other.token, code: 'not_found', max: 20_000 })).toMatchObject({ code: 'not_found' });
    } finally {
      w.kill();
    }
  }, 120_000);

  it('the command still exits on its own after publishing (no listener left open)', async () => {
    const { args, cwd } = setup();
    const { info } = await issue('pub-exit');
    // killAfter: a command kept alive by an open feed connection would be killed and fail here
    const { done } = start(['revoke', info.id, ...args], { cwd, killAfter: 20_000 });
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning');
  });
}

describe('publishing to running services: Redis', () => {
  const keyPrefix = `tkaclipub:${randomBytes(5).toString('hex')}:`;
  const channel = `tkaclipub:inv:${randomBytes(5).toString('hex')}`;
  let client: Redis;
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('pub-redis'));
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    if (client) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await client.del(...keys);
      } while (cursor !== '0');
      await client.quit();
    }
    await remove?.();
  });
  publishTests(() => ({
    args: ['--store', REDIS_URL, '--key-prefix', keyPrefix, '--channel', channel],
    cwd: dir,
    worker: () => startCacheWorker({ file: here('./workers/cache-worker.ts'), tsconfig: here('../tsconfig.json'), env: { BACKEND: 'redis', REDIS_URL, KEY_PREFIX: keyPrefix, CHANNEL: channel } }),
  }));
});

describe('publishing to running services: PostgreSQL', () => {
  const schema = randomName('pub');
  const channel = `tka_clipub_${randomBytes(5).toString('hex')}`;
  let pool: pg.Pool;
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('pub-pg'));
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    pool.on('error', () => {});
    await ok(['migrate', '--store', `${POSTGRES_URL}?schema=${schema}`], { cwd: dir });
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool?.end();
    await remove?.();
  });
  publishTests(() => ({
    args: ['--store', `${POSTGRES_URL}?schema=${schema}`, '--channel', channel],
    cwd: dir,
    worker: () => startCacheWorker({ file: here('./workers/cache-worker.ts'), tsconfig: here('../tsconfig.json'), env: { BACKEND: 'postgres', POSTGRES_URL, SCHEMA: schema, CHANNEL: channel } }),
  }));
});
