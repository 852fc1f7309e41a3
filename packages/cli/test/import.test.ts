import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type TokenStore, createTokenAccess, legacyFormats } from '@tokenaccess/core';
import { postgresStore, quoteIdent } from '@tokenaccess/postgres';
import { redisStore } from '@tokenaccess/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterSanctum } from './examples/after-sanctum';
import { afterShield } from './examples/after-shield';
import { afterTiki } from './examples/after-tiki';
import { type Seeded, seedFrameworks, sourceDatabase } from './frameworks';
import { POSTGRES_URL, REDIS_URL, RAW_TOKEN_RE, cli, ok, randomName, tempDir } from './helpers';

/**
 * `tokenaccess import` from the frameworks' real tables on MariaDB into each kind of store, then
 * the tokens and links users already hold, verified end to end through core's legacy formats.
 */

interface ImportSummary {
  from: string;
  imported: number;
  alreadyPresent: number;
  skipped: { count: number; reasons: Record<string, number> };
  refused: { count: number; rows: { id: string; reason: string }[] };
}

interface Target {
  name: string;
  args: () => string[];
  /** PGlite creates its database on first use: slow on a loaded machine. */
  killAfter?: number;
  withStore<T>(fn: (store: TokenStore) => Promise<T>): Promise<T>;
}

let source: Awaited<ReturnType<typeof sourceDatabase>>;
let seeded: Seeded;
let dir: string;
let removeDir: () => Promise<void>;
let pool: pg.Pool;
let redis: Redis;
const schema = randomName('import');
const keyPrefix = `tkaclitest:import:${randomBytes(5).toString('hex')}:`;

beforeAll(async () => {
  source = await sourceDatabase();
  seeded = await seedFrameworks(source.conn);
  ({ dir, remove: removeDir } = await tempDir('import'));
  pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  pool.on('error', () => {});
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await source?.drop();
  await pool?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await pool?.end();
  if (redis) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
  await removeDir?.();
});

const TARGETS: Target[] = [
  {
    name: 'PostgreSQL (own schema)',
    args: () => ['--store', `${POSTGRES_URL}?schema=${schema}`],
    withStore: (fn) => fn(postgresStore({ client: pool, schema })),
  },
  {
    name: 'PGlite (pglite:<dir>)',
    args: () => ['--store', 'pglite:./imported'],
    killAfter: 150_000,
    async withStore(fn) {
      const db = new PGlite(join(dir, 'imported'));
      try {
        return await fn(postgresStore({ client: db }));
      } finally {
        await db.close();
      }
    },
  },
  {
    name: 'Redis (own key prefix)',
    args: () => ['--store', REDIS_URL, '--key-prefix', keyPrefix],
    withStore: (fn) => fn(redisStore({ client: redis, keyPrefix })),
  },
];

const legacyTokens = (store: TokenStore) =>
  createTokenAccess({ store, urlParam: 'TOKEN', legacy: [legacyFormats.sanctum, legacyFormats.shield, legacyFormats.sha256] });

describe.each(TARGETS)('import into $name', { timeout: 180_000 }, (target) => {
  const opts = () => ({ cwd: dir, ...(target.killAfter ? { killAfter: target.killAfter } : {}) });
  const run = async (args: string[]) => JSON.parse((await ok([...args, ...target.args(), '--json'], opts())).stdout) as ImportSummary;

  it('migrates the store first where it needs it', async () => {
    await ok(['migrate', ...target.args()], opts());
  });

  it('sanctum: every live token imported as named; `<id>|<plain>` verifies; a second run adds nothing', async () => {
    const first = await run(['import', 'sanctum', '--from', source.url]);
    expect(first).toMatchObject({ from: 'sanctum', imported: 2, alreadyPresent: 0, skipped: { count: 1, reasons: { expired: 1 } } });
    expect(first.refused.rows.map((r) => Number(r.id))).toEqual(seeded.sanctum.refused);
    expect(first.refused.rows[0]!.reason).toBe('abilities is not valid JSON');
    expect(first.refused.rows[1]!.reason).toMatch(/"posts\.\*" would be a wildcard here/);

    await target.withStore(async (store) => {
      const tokens = afterSanctum(store);
      // last use and creation as Sanctum wrote them (inspect spends nothing and touches nothing)
      const mac = await tokens.inspect(seeded.sanctum.live[0]!.raw);
      expect(mac!.lastUsedAt!.getTime()).toBeLessThan(Date.now() - 3_600_000);
      expect(mac!.createdAt.getTime()).toBeLessThan(Date.now() - 29 * 86_400_000);
      for (const t of seeded.sanctum.live) {
        const r = await tokens.verify(t.raw);
        expect(r.ok, t.raw.slice(0, 3)).toBe(true);
        if (!r.ok) continue;
        expect(r.token).toMatchObject({ kind: 'access', scopes: t.scopes, metadata: { imported: { from: 'sanctum', id: t.id, type: 'App\\Models\\User' } }, hint: `sanctum:${t.id}` });
        // the stored hash is Sanctum's own column, unpeppered
        const [, plain] = t.raw.split('|');
        expect(r.token.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(r.token.hash).not.toContain(plain);
      }
      const deploy = await tokens.verify(seeded.sanctum.live[1]!.raw, { scopes: ['server:update'] });
      expect(deploy.ok && deploy.token).toMatchObject({ subject: '2', name: 'deploy' });
      expect(deploy.ok && deploy.token.expiresAt!.getTime()).toBeGreaterThan(Date.now());
      const wrong = await tokens.verify(seeded.sanctum.live[1]!.raw, { scopes: ['server:delete'] });
      expect(!wrong.ok && wrong.error.code).toBe('insufficient_scope');
      // a wrong plaintext behind a real id is not found
      const forged = await tokens.verify(`${seeded.sanctum.live[0]!.id}|${'x'.repeat(48)}`);
      expect(!forged.ok && forged.error.code).toBe('not_found');
    });

    const again = await run(['import', 'sanctum', '--from', source.url]);
    expect(again).toMatchObject({ imported: 0, alreadyPresent: 2, skipped: { count: 1 }, refused: { count: 2 } });
  });

  it('shield: access_token rows only, PHP-serialized scopes; the 64-hex token verifies', async () => {
    const first = await run(['import', 'shield', '--from', source.url]);
    expect(first).toMatchObject({ from: 'shield', imported: 2, alreadyPresent: 0 });
    expect(first.skipped.reasons).toEqual({ 'not an access token (type email_password)': 2, 'not an access token (type magic-link)': 1 });
    expect(first.refused.rows).toEqual([{ id: String(seeded.shield.refused[0]), reason: expect.stringMatching(/^extra is not a serialized array of scopes: /) }]);

    await target.withStore(async (store) => {
      const tokens = afterShield(store);
      const [laptop, cliToken] = seeded.shield.live;
      const a = await tokens.verify(laptop!.raw, { scopes: ['anything'] });
      expect(a.ok && a.token).toMatchObject({ subject: '1', name: 'Work Laptop', scopes: ['*'], hint: `shield:${laptop!.id}` });
      const b = await tokens.verify(cliToken!.raw, { scopes: ['users-read', 'users-write'] });
      expect(b.ok && b.token).toMatchObject({ subject: '2', scopes: ['users-read', 'users-write'], metadata: { imported: { from: 'shield', id: cliToken!.id } } });
      const c = await tokens.verify(cliToken!.raw, { scopes: ['users-delete'] });
      expect(!c.ok && c.error.code).toBe('insufficient_scope');
    });
    expect((await run(['import', 'shield', '--from', source.url])).alreadyPresent).toBe(2);
  });

  it('tiki: links bound to entry + parameters open as before (TOKEN), hits left become uses', async () => {
    const first = await run(['import', 'tiki', '--from', source.url, '--base-url', 'https://tiki.example.com']);
    expect(first).toMatchObject({ from: 'tiki', imported: 3, alreadyPresent: 0, skipped: { count: 2, reasons: seeded.tiki.skipped } });
    expect(first.refused.rows.map((r) => [Number(r.id), r.reason])).toEqual([
      [seeded.tiki.refused[0], 'groups is not valid JSON'],
      [seeded.tiki.refused[1], expect.stringMatching(/^groups: "Registered Users" is not a valid scope/)],
    ]);

    await target.withStore(async (store) => {
      const tokens = afterTiki(store);
      const [report, download, list] = seeded.tiki.links;
      // the link exactly as Tiki printed it
      const r1 = await tokens.verifyUrl(report!.url('https://tiki.example.com'));
      expect(r1.ok && r1.token).toMatchObject({ kind: 'url', scopes: ['Viewers'], maxUses: 10, uses: 4, hint: `tiki:${report!.id}` });
      expect(r1.ok && r1.token.url).toMatchObject({ url: 'https://tiki.example.com/tiki-index.php?page=Quarterly%20Report', origin: 'https://tiki.example.com', methods: ['GET'] });
      // another page with the same token: refused, and no hit spent
      const other = await tokens.verifyUrl(report!.url('https://tiki.example.com').replace('Quarterly', 'Annual'));
      expect(!other.ok && other.error.code).toBe('url_mismatch');
      // unlimited, never expiring, no groups
      for (let i = 0; i < 3; i++) expect((await tokens.verifyUrl(download!.url('https://tiki.example.com'))).ok).toBe(true);
      const d = await tokens.verifyUrl(download!.url('https://tiki.example.com'));
      expect(d.ok && d.token).toMatchObject({ scopes: [], uses: 0 });
      expect(d.ok && d.token.maxUses).toBeUndefined();
      expect(d.ok && d.token.expiresAt).toBeUndefined();
      // array parameters, in another order: one hit, then used up
      const l1 = await tokens.verifyUrl(list!.url('https://tiki.example.com'));
      expect(l1.ok && l1.token.scopes).toEqual(['Editors', 'Viewers']);
      const l2 = await tokens.verifyUrl(list!.url('https://tiki.example.com'));
      expect(!l2.ok && l2.error.code).toBe('exhausted');
      // the stored record never holds Tiki's plain token
      const stored = JSON.stringify((await tokens.list({ kind: 'url', limit: 100 })).items);
      for (const link of seeded.tiki.links) expect(stored).not.toContain(link.token);
      expect(stored).not.toContain('TOKEN=');
    });
    expect((await run(['import', 'tiki', '--from', source.url, '--base-url', 'https://tiki.example.com'])).alreadyPresent).toBe(3);
  });

  it('the human summary: counts and reasons on stdout, no raw token anywhere', async () => {
    const r = await ok(['import', 'sanctum', '--from', source.url, ...target.args()], opts());
    expect(r.stdout).toMatch(/^imported 0 sanctum tokens from mysql:\/\/root@127\.0\.0\.1:3306\/tka_import_[0-9a-f]+ \(personal_access_tokens\) into /);
    expect(r.stdout).toContain('  already present  2\n');
    expect(r.stdout).toContain('  skipped          1 (expired: 1)\n');
    expect(r.stdout).toContain('  refused          2\n');
    expect(r.stdout).toContain(`    id ${seeded.sanctum.refused[0]}: abilities is not valid JSON\n`);
    expect(r.stderr).toContain('2 rows could not be imported');
    for (const t of seeded.sanctum.live) expect(r.stdout + r.stderr).not.toContain(t.raw.split('|')[1]);
    const list = await ok(['list', ...target.args()], opts());
    expect(list.stdout).toContain('MacBook');
    expect(list.stdout + list.stderr).not.toMatch(RAW_TOKEN_RE);
  });
});

describe('import: choices and bad input', { timeout: 180_000 }, () => {
  const run = (args: string[]) => cli([...args, '--store', 'memory:'], { cwd: dir });

  it('--dry-run counts and writes nothing; --timezone shifts wall-clock dates', async () => {
    const { dir: d, remove } = await tempDir('dry');
    try {
      const dry = await ok(['import', 'sanctum', '--from', source.url, '--dry-run', '--json'], { cwd: d });
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, imported: 2, alreadyPresent: 0 });
      expect(JSON.parse((await ok(['list', '--json'], { cwd: d })).stdout)).toMatchObject({ count: 0 });
      // the same rows read as +05:00 wall clock: 5 h earlier
      const utc = ['--store', REDIS_URL, '--key-prefix', `${keyPrefix}utc:`];
      const plus5 = ['--store', REDIS_URL, '--key-prefix', `${keyPrefix}plus5:`];
      expect(JSON.parse((await ok(['import', 'shield', '--from', source.url, ...utc, '--json'], { cwd: d })).stdout).imported).toBe(2);
      expect(JSON.parse((await ok(['import', 'shield', '--from', source.url, ...plus5, '--timezone', '+05:00', '--json'], { cwd: d })).stdout).imported).toBe(2);
      const created = async (store: string[]) =>
        (JSON.parse((await ok(['list', ...store, '--json'], { cwd: d })).stdout) as { items: { createdAt: string; name: string }[] }).items.find((t) => t.name === 'CLI')!.createdAt;
      expect(Date.parse(await created(utc)) - Date.parse(await created(plus5))).toBe(5 * 3_600_000);
    } finally {
      await remove();
    }
  });

  it('--expires-after caps the expiry from creation (Sanctum’s expiration setting)', async () => {
    const r = await ok(['import', 'sanctum', '--from', source.url, '--expires-after', '20d', '--store', 'memory:', '--json'], { cwd: dir });
    // MacBook was created 30 days ago: with a 20-day lifetime it is expired, so skipped
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: 1, skipped: { reasons: { expired: 2 } } });
  });

  it('usage errors (2) and a wrong table or source (1), before anything is written', async () => {
    const usageErr = async (args: string[], pattern: RegExp) => {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
    };
    await usageErr(['import'], /import what\?/);
    await usageErr(['import', 'passport', '--from', source.url], /cannot import "passport": choose sanctum, shield or tiki/);
    await usageErr(['import', 'sanctum'], /needs --from <url>/);
    await usageErr(['import', 'sanctum', '--from', 'sqlite:./db'], /unsupported source URL/);
    await usageErr(['import', 'sanctum', '--from', source.url, '--timezone', 'Mars/Base'], /--timezone must be UTC or an offset/);
    await usageErr(['import', 'sanctum', '--from', source.url, '--base-url', 'https://x.test'], /--base-url applies to tiki links only/);
    await usageErr(['import', 'tiki', '--from', source.url, '--base-url', 'ftp://x'], /--base-url must be an http\(s\) URL/);
    await usageErr(['import', 'sanctum', '--from', 'mysql://root@127.0.0.1:3306'], /names no database/);

    const missing = await run(['import', 'sanctum', '--from', source.url, '--source-table', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tokenaccess: error: there is no table nope in mysql:\/\/root@127\.0\.0\.1:3306\/tka_import_/m);
    const wrongTable = await run(['import', 'sanctum', '--from', `${source.url}?table=auth_identities`]);
    expect(wrongTable.code).toBe(1);
    expect(wrongTable.stderr).toMatch(/auth_identities is not sanctum's personal_access_tokens table: it has no column tokenable_id, token, abilities/);
    const refused = await run(['import', 'sanctum', '--from', 'mysql://root:secret@127.0.0.1:1/x']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot connect to mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/x: /);
    expect(refused.stderr).not.toContain('secret');
  });
});

describe('import from PostgreSQL (Laravel on Postgres)', () => {
  const src = randomName('pgsrc');
  const dst = randomName('pgdst');
  afterAll(async () => {
    const p = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    await p.query(`DROP SCHEMA IF EXISTS ${quoteIdent(src)} CASCADE`);
    await p.query(`DROP SCHEMA IF EXISTS ${quoteIdent(dst)} CASCADE`);
    await p.end();
  });

  it('reads personal_access_tokens from ?schema=, timestamps as the wall clock', async () => {
    const p = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    try {
      await p.query(`CREATE SCHEMA ${quoteIdent(src)}`);
      // Laravel's migration on PostgreSQL
      await p.query(`CREATE TABLE ${quoteIdent(src)}.personal_access_tokens (
        id bigserial PRIMARY KEY, tokenable_type varchar(255) NOT NULL, tokenable_id bigint NOT NULL, name varchar(255) NOT NULL,
        token varchar(64) NOT NULL UNIQUE, abilities text NULL, last_used_at timestamp(0) without time zone NULL,
        expires_at timestamp(0) without time zone NULL, created_at timestamp(0) without time zone NULL, updated_at timestamp(0) without time zone NULL)`);
      const plain = 'pg-plain-token-0123456789abcdefghijklmnopqrstuvwxyz';
      const { createHash } = await import('node:crypto');
      const { rows } = await p.query(
        `INSERT INTO ${quoteIdent(src)}.personal_access_tokens (tokenable_type, tokenable_id, name, token, abilities, expires_at, created_at)
         VALUES ('App\\Models\\User', 9007199254740993, 'pg', $1, '["reports:read"]', '2099-01-01 00:00:00', '2026-01-01 12:00:00') RETURNING id`,
        [createHash('sha256').update(plain).digest('hex')],
      );
      await ok(['migrate', '--store', `${POSTGRES_URL}?schema=${dst}`], { cwd: dir });
      const r = await ok(['import', 'sanctum', '--from', `${POSTGRES_URL}?schema=${src}`, '--store', `${POSTGRES_URL}?schema=${dst}`, '--json'], { cwd: dir });
      expect(JSON.parse(r.stdout)).toMatchObject({ imported: 1, refused: { count: 0 } });
      const v = await legacyTokens(postgresStore({ client: p, schema: dst })).verify(`${rows[0].id}|${plain}`, { scopes: ['reports:read'] });
      expect(v.ok && v.token).toMatchObject({ subject: '9007199254740993', createdAt: new Date('2026-01-01T12:00:00Z'), expiresAt: new Date('2099-01-01T00:00:00Z') });
    } finally {
      await p.end();
    }
  });
});
