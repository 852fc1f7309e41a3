import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { quoteIdent } from '@tokenaccess/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, POSTGRES_URL, cleanEnv, ok, randomName, tempDir } from './helpers';

const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs the CLI inside a pseudo-terminal (util-linux `script`), so stderr is a TTY. */
function inPty(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
    const child = spawn(SCRIPT!, ['-qfec', command, '/dev/null'], { cwd, env: cleanEnv({ TERM: 'xterm', COLUMNS: '100' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('sweep over 100,000 expired tokens (local PostgreSQL)', () => {
  const schema = randomName('sweep');
  const storeUrl = `${POSTGRES_URL}?schema=${schema}`;
  const table = `${quoteIdent(schema)}.${quoteIdent('tokenaccess_tokens')}`;
  let pool: pg.Pool;
  let dir: string;
  let remove: () => Promise<void>;

  /**
   * Seeds `n` expired tokens in one INSERT … SELECT (64-hex hashes, ULID-shaped ids). Times are
   * written in the column type the store's migration chose (epoch-ms bigint, or timestamptz).
   */
  const seed = async (n: number, tag: string) => {
    const { rows } = await pool.query(
      `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'tokenaccess_tokens' AND column_name = 'expires_at'`,
      [schema],
    );
    const epoch = rows[0]?.data_type === 'bigint';
    const ago = (ms: number) => (epoch ? `(extract(epoch from now()) * 1000)::bigint - ${ms}` : `now() - interval '${ms} milliseconds'`);
    await pool.query(
      `INSERT INTO ${table} (id, hash, kind, subject, name, scopes, expires_at, created_at, hint)
       SELECT '0SEED' || $2::text || lpad(g::text, 20, '0'), md5($2::text || g::text) || md5(g::text || $2::text), 'access', 'seeded', 'seed', ARRAY['*'],
              ${ago(3_600_000)}, ${ago(172_800_000)}, 'tka_seed'
       FROM generate_series(1, $1::int) g`,
      [n, tag],
    );
  };

  beforeAll(async () => {
    ({ dir, remove } = await tempDir('sweep'));
    pool = new pg.Pool({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000, max: 2 });
    pool.on('error', () => {});
    await ok(['migrate', '--store', storeUrl], { cwd: dir });
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool?.end();
    await remove?.();
  });

  it.skipIf(!SCRIPT)('on a terminal: a progress bar on stderr, the count on stdout, live tokens kept', async () => {
    const live = JSON.parse((await ok(['issue', 'kim', '--json', '--store', storeUrl], { cwd: dir })).stdout) as { info: { id: string } };
    await seed(100_000, 'a');
    const r = await inPty(['sweep', '--store', storeUrl], dir);
    expect(r.code).toBe(0);
    // redrawn in place, ending full
    expect(r.output).toMatch(/\rsweeping \[[█░]{24}\] +\d+%/);
    expect(r.output).toContain(`sweeping [${'█'.repeat(24)}] 100%  100,000/100,000`);
    expect(r.output).toMatch(/swept 100,000 tokens \(expired or used up\) from postgres:\/\/.*\(schema tka_cli_sweep_/);
    const { rows } = await pool.query(`SELECT id FROM ${table}`);
    expect(rows).toEqual([{ id: live.info.id }]);
  });

  it('in a pipe: no progress at all, the count on stdout (and as JSON)', async () => {
    await seed(20_000, 'b');
    const r = await ok(['sweep', '--store', storeUrl], { cwd: dir });
    expect(r.stdout).toMatch(/^swept 20,000 tokens \(expired or used up\) from /);
    expect(r.stderr).toBe('');
    await seed(1_500, 'c');
    const j = await ok(['sweep', '--store', storeUrl, '--json', '--batch-size', '500'], { cwd: dir });
    expect(JSON.parse(j.stdout)).toEqual({ deleted: 1_500 });
    expect(j.stderr).toBe('');
    expect((await ok(['sweep', '--store', storeUrl], { cwd: dir })).stdout).toMatch(/^swept 0 tokens/);
  });

  it.skipIf(!SCRIPT)('bulk revoke on a terminal shows its bar too', async () => {
    for (let i = 0; i < 3; i++) await ok(['issue', 'lee', '--store', storeUrl], { cwd: dir });
    const r = await inPty(['revoke', '--subject', 'lee', '--store', storeUrl], dir);
    expect(r.code).toBe(0);
    expect(r.output).toContain(`revoking [${'█'.repeat(24)}] 100%  3/3`);
    expect(r.output).toContain('revoked 3 tokens (tokens of subject lee)');
  });
});
