import pg from 'pg';
import { createTokenAccess, legacyFormats } from '@tokenaccess/core';
import { postgresStore, quoteIdent } from '@tokenaccess/postgres';
import { startTcpProxy } from 'test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MYSQL_URL, bulkSanctum, sourceDatabase } from './frameworks';
import { POSTGRES_URL, ok, randomName, start, tempDir } from './helpers';

/**
 * The source database goes away mid-import (its TCP connection is reset through a proxy): the
 * command stops with exit 1 and says how to finish, every record it wrote is whole, and the same
 * command run again imports the rest, with nothing twice.
 */
describe('import: the source connection is lost mid-import', { timeout: 180_000 }, () => {
  const N = 3000;
  const schema = randomName('impfault');
  const storeUrl = `${POSTGRES_URL}?schema=${schema}`;
  let source: Awaited<ReturnType<typeof sourceDatabase>>;
  let raws: string[];
  let pool: pg.Pool;
  let dir: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    source = await sourceDatabase();
    raws = await bulkSanctum(source.conn, N);
    ({ dir, remove } = await tempDir('impfault'));
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    pool.on('error', () => {});
    await ok(['migrate', '--store', storeUrl], { cwd: dir });
  });
  afterAll(async () => {
    await source?.drop();
    await pool?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool?.end();
    await remove?.();
  });

  const stored = async () => Number((await pool.query(`SELECT count(*) AS n, count(DISTINCT hash) AS d FROM ${quoteIdent(schema)}.tokenaccess_tokens`)).rows[0].n);

  it('stops with exit 1 and a hint; the re-run completes it with nothing duplicated', async () => {
    const mysqlPort = Number(new URL(MYSQL_URL).port || 3306);
    const proxy = await startTcpProxy({ host: new URL(MYSQL_URL).hostname, port: mysqlPort });
    try {
      const via = `mysql://root@127.0.0.1:${proxy.port}/${source.name}`;
      const p = start(['import', 'sanctum', '--from', via, '--store', storeUrl, '--batch-size', '500'], { cwd: dir, killAfter: 120_000 });
      // cut while the first page is being written: the next page can no longer be read
      let seen = 0;
      while (seen === 0) {
        await new Promise((r) => setTimeout(r, 5));
        seen = await stored();
      }
      proxy.cut('reset');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^tokenaccess: error: import sanctum stopped: .+; [\d,]+ tokens? imported before it \(each one whole\), 0 already present$/m);
      expect(r.stderr).toContain('hint: run the same command again to finish');
      expect(r.stdout).toBe('');
      const partial = await stored();
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(N);
      // every record written is whole: each one verifies (a sample from the first page)
      const tokens = createTokenAccess({ store: postgresStore({ client: pool, schema }), legacy: [legacyFormats.sanctum] });
      expect((await tokens.verify(raws[0]!)).ok).toBe(true);

      const again = JSON.parse((await ok(['import', 'sanctum', '--from', `${MYSQL_URL}/${source.name}`, '--store', storeUrl, '--json'], { cwd: dir })).stdout) as { imported: number; alreadyPresent: number };
      expect(again.alreadyPresent).toBe(partial);
      expect(again.imported).toBe(N - partial);
      const { rows } = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT hash)::int AS d FROM ${quoteIdent(schema)}.tokenaccess_tokens`);
      expect(rows[0]).toEqual({ n: N, d: N });
      for (const raw of [raws[1]!, raws[N - 1]!]) expect((await tokens.verify(raw)).ok).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
