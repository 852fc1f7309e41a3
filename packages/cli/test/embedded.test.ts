import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type TokenStore, createTokenAccess } from '@tokenaccess/core';
import { postgresStore } from '@tokenaccess/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowTests } from './flow';
import { lifecycleTests } from './lifecycle';
import { RAW_TOKEN_RE, cli, ok, tempDir } from './helpers';

describe('the embedded store (PGlite in ./.tokenaccess/)', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('embedded'));
  });
  afterAll(() => remove?.());

  const withStore = async <T>(fn: (store: TokenStore) => Promise<T>, pgdata = join(dir, '.tokenaccess', 'pgdata')): Promise<T> => {
    const db = new PGlite(pgdata);
    try {
      return await fn(postgresStore({ client: db }));
    } finally {
      await db.close();
    }
  };

  it('is created on first use, with a .gitignore, and persists between runs', async () => {
    const first = await ok(['issue', 'dora', '--name', 'first'], { cwd: dir });
    expect(first.stderr).toContain('creating the embedded store in ./.tokenaccess/');
    expect(readFileSync(join(dir, '.tokenaccess', '.gitignore'), 'utf8')).toContain('*');
    expect(existsSync(join(dir, '.tokenaccess', 'lock'))).toBe(false);
    const second = await ok(['list', '--subject', 'dora', '--json'], { cwd: dir });
    expect(second.stderr).not.toContain('creating');
    expect((JSON.parse(second.stdout) as { items: { name: string }[] }).items.map((t) => t.name)).toEqual(['first']);
    // `migrate` on the embedded store is a no-op report
    expect((await ok(['migrate'], { cwd: dir })).stdout).toMatch(/up to date \(schema version \d+\)/);
  });

  flowTests({ args: () => [], options: () => ({ cwd: dir }), withStore: (fn) => withStore(fn) });
  lifecycleTests({ args: () => [], options: () => ({ cwd: dir }), withStore: (fn) => withStore(fn) });

  it('pglite:<dir> names another directory', async () => {
    const r = await ok(['issue', 'eve', '--store', 'pglite:./other-db', '--json'], { cwd: dir });
    const { token } = JSON.parse(r.stdout) as { token: string };
    const v = await withStore((store) => createTokenAccess({ store }).verify(token), join(dir, 'other-db'));
    expect(v.ok).toBe(true);
  });

  it('a peppered deployment: TOKENACCESS_PEPPER hashes with HMAC, as the app does', async () => {
    const pepper = 'a-pepper-of-at-least-16-characters';
    const env = { TOKENACCESS_PEPPER: pepper };
    const r = await ok(['issue', 'frank', '--json'], { cwd: dir, env });
    const { token, info } = JSON.parse(r.stdout) as { token: string; info: { id: string; hash: string } };
    expect(info.hash).toMatch(/^k1:[0-9a-f]{64}$/);
    const [withPepper, without] = await withStore(async (store) => [
      await createTokenAccess({ store, pepper }).verify(token),
      await createTokenAccess({ store }).verify(token),
    ]);
    expect(withPepper.ok).toBe(true);
    expect(!without.ok && without.error.code).toBe('not_found');
    // inspect by raw token needs the pepper too (and says so)
    const missing = await cli(['inspect', token], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('pass --pepper or TOKENACCESS_PEPPER');
    expect((await ok(['inspect', token, '--pepper', pepper], { cwd: dir })).stdout).toContain(info.id);
    // a rotated pepper: the old key still finds it
    const rotated = JSON.stringify({ current: 'k2', keys: { k2: 'the-new-pepper-0123456789', k1: pepper } });
    expect((await ok(['revoke', token], { cwd: dir, env: { TOKENACCESS_PEPPER: rotated } })).stdout).toContain(`revoked ${info.id}`);
  });

  it('--prefix issues and recognises tokens of another prefix', async () => {
    const r = await ok(['issue', 'gina', '--prefix', 'myapp'], { cwd: dir });
    const token = r.stdout.trim();
    expect(token).toMatch(/^myapp_[0-9A-Za-z]{36}$/);
    const wrong = await cli(['inspect', token], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('is not a token with prefix tka');
    expect(wrong.stderr).toContain('hint: pass --prefix myapp');
    expect(wrong.stderr).not.toContain(token);
    expect((await ok(['inspect', token], { cwd: dir, env: { TOKENACCESS_PREFIX: 'myapp' } })).stdout).toContain('gina');
  });

  it('list --expired and revoke --all-expired', async () => {
    const { dir: d, remove: rm } = await tempDir('expired');
    try {
      const live = JSON.parse((await ok(['issue', 'hal', '--json'], { cwd: d })).stdout) as { info: { id: string } };
      // a token that expires almost at once
      const short = JSON.parse((await ok(['issue', 'hal', '--expires', '1ms', '--json'], { cwd: d })).stdout) as { info: { id: string } };
      const expired = JSON.parse((await ok(['list', '--expired', '--json'], { cwd: d })).stdout) as { items: { id: string; status: string }[] };
      expect(expired.items).toEqual([expect.objectContaining({ id: short.info.id, status: 'expired' })]);
      const dry = await ok(['revoke', '--all-expired', '--dry-run'], { cwd: d });
      expect(dry.stdout).toBe('would revoke 1 token (expired tokens); nothing was revoked\n');
      const r = await ok(['revoke', '--all-expired'], { cwd: d });
      expect(r.stdout).toBe('revoked 1 token (expired tokens)\n');
      const left = JSON.parse((await ok(['list', '--json'], { cwd: d })).stdout) as { items: { id: string }[] };
      expect(left.items.map((t) => t.id)).toEqual([live.info.id]);
      expect(r.stdout + r.stderr).not.toMatch(RAW_TOKEN_RE);
    } finally {
      await rm();
    }
  });

  it('refuses a second process on the same directory while one holds it', async () => {
    const { dir: d, remove: rm } = await tempDir('lock');
    try {
      await ok(['list'], { cwd: d });
      // a lock held by a live process (this one)
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(d, '.tokenaccess', 'lock'), String(process.pid));
      const r = await cli(['list'], { cwd: d });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`in use by another tokenaccess process (pid ${process.pid})`);
      // a stale lock (no such process) is taken over
      writeFileSync(join(d, '.tokenaccess', 'lock'), '999999999');
      expect((await cli(['list'], { cwd: d })).code).toBe(0);
    } finally {
      await rm();
    }
  });
});
