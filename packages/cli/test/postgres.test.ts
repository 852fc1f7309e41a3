import pg from 'pg';
import { type TokenStore } from '@tokenaccess/core';
import { postgresStore, quoteIdent } from '@tokenaccess/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowTests } from './flow';
import { lifecycleTests } from './lifecycle';
import { POSTGRES_URL, cli, ok, randomName, tempDir } from './helpers';

describe('a PostgreSQL server (--store postgres://…?schema=…)', () => {
  const schema = randomName('pg');
  const storeUrl = `${POSTGRES_URL}?schema=${schema}`;
  let pool: pg.Pool;
  let dir: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir('pg'));
    pool = new pg.Pool({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000, max: 4 });
    pool.on('error', () => {});
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool?.end();
    await remove?.();
  });

  it('before migrate, commands fail with a hint to run it; migrate is idempotent', async () => {
    const before = await cli(['list', '--store', storeUrl], { cwd: dir });
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/^tokenaccess: error: .*does not exist.*run `tokenaccess migrate` first/);
    const first = await ok(['migrate', '--store', storeUrl], { cwd: dir });
    expect(first.stdout).toMatch(new RegExp(`\\(schema ${schema}, table tokenaccess_tokens\\) to schema version (\\d+) \\(applied 1(, \\d+)*\\)\n$`));
    expect(first.stdout).not.toContain('?schema');
    const again = await ok(['migrate', '--store', storeUrl, '--json'], { cwd: dir });
    expect(JSON.parse(again.stdout)).toMatchObject({ backend: 'postgres', message: expect.stringContaining('up to date') });
  });

  const withStore = async <T>(fn: (store: TokenStore) => Promise<T>) => fn(postgresStore({ client: pool, schema }));
  flowTests({ args: () => ['--store', storeUrl], options: () => ({ cwd: dir }), withStore });
  lifecycleTests({ args: () => ['--store', storeUrl], options: () => ({ cwd: dir }), withStore });

  it('--schema and --table select another table (flags win over the URL)', async () => {
    const table = 'cli_tokens';
    await ok(['migrate', '--store', POSTGRES_URL, '--schema', schema, '--table', table], { cwd: dir });
    const r = await ok(['issue', 'ivan', '--store', `${POSTGRES_URL}?schema=ignored`, '--schema', schema, '--table', table, '--json'], { cwd: dir });
    const { info } = JSON.parse(r.stdout) as { info: { id: string } };
    const { rows } = await pool.query(`SELECT id FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
    expect(rows).toEqual([{ id: info.id }]);
  });

  it('list pages with --limit / --cursor, and --all', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((JSON.parse((await ok(['issue', 'pager', '--json', '--store', storeUrl], { cwd: dir })).stdout) as { info: { id: string } }).info.id);
    const first = JSON.parse((await ok(['list', '--subject', 'pager', '--limit', '2', '--json', '--store', storeUrl], { cwd: dir })).stdout) as { items: { id: string }[]; more?: boolean; cursor?: string };
    expect(first.items.map((t) => t.id)).toEqual(ids.slice(0, 2));
    expect(first.more).toBe(true);
    const second = JSON.parse((await ok(['list', '--subject', 'pager', '--cursor', first.cursor!, '--json', '--store', storeUrl], { cwd: dir })).stdout) as { items: { id: string }[]; more?: boolean };
    expect(second.items.map((t) => t.id)).toEqual(ids.slice(2));
    expect(second.more).toBeUndefined();
    const table = await ok(['list', '--subject', 'pager', '--limit', '2', '--store', storeUrl], { cwd: dir });
    expect(table.stderr).toContain('2 tokens shown; more exist (--limit <n> or --all)');
    const all = await ok(['list', '--subject', 'pager', '--all', '--store', storeUrl], { cwd: dir });
    expect(all.stdout.trim().split('\n')).toHaveLength(4);

    // several ids at once: the known ones go, the unknown one makes the exit code 1
    const r = await cli(['revoke', ids[0]!, '01KAT3H8W6B0Q5R2Y9D1M4N7PX', ids[1]!, '--store', storeUrl], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`revoked ${ids[0]} (access, subject pager, "cli")\nrevoked ${ids[1]} (access, subject pager, "cli")\n`);
    expect(r.stderr).toBe('tokenaccess: error: no token with id 01KAT3H8W6B0Q5R2Y9D1M4N7PX\n');
  });

  it('TOKENACCESS_STORE names the store when --store is absent', async () => {
    const r = await ok(['list', '--subject', 'nobody', '--json'], { cwd: dir, env: { TOKENACCESS_STORE: storeUrl } });
    expect(JSON.parse(r.stdout)).toEqual({ items: [], count: 0 });
  });
});
