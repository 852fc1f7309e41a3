import { chmod, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenAccess } from '@tokenaccess/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store';

/** Everything under `root` (itself included) that the group or others may read, write or enter. */
async function openToOthers(root: string): Promise<{ seen: number; loose: string[] }> {
  let seen = 0;
  const loose: string[] = [];
  const visit = async (path: string) => {
    const st = await lstat(path);
    seen++;
    if ((st.mode & 0o077) !== 0) loose.push(`0${(st.mode & 0o777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return { seen, loose };
}

// TOKENACCESS_STORE=pglite:./data keeps token hashes and use counts on disk: owner-only, under
// the usual umask of 022 (PGlite alone leaves most of its files 0666).
describe.runIf(process.platform !== 'win32')('TOKENACCESS_STORE=pglite:<dir> on disk', () => {
  let dir: string;
  let umask: number;
  beforeAll(async () => {
    umask = process.umask(0o022);
    dir = await mkdtemp(join(tmpdir(), 'koa-api-pglite-'));
  });
  afterAll(async () => {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  });

  it('is created owner-only (0700 / 0600) and stays so after use and close', async () => {
    const data = join(dir, 'data');
    const opened = await openStore(`pglite:${data}`);
    try {
      await createTokenAccess({ store: opened.store }).issue({ subject: 'alice', name: 'laptop' });
      const open = await openToOthers(data);
      expect(open.seen).toBeGreaterThan(500);
      expect(open.loose).toEqual([]);
    } finally {
      await opened.close();
    }
    expect((await openToOthers(data)).loose).toEqual([]);
    // and opened again (PostgreSQL rewrites some files on start)
    const again = await openStore(`pglite:${data}`);
    await again.close();
    expect((await openToOthers(data)).loose).toEqual([]);
  });

  it('refuses a directory that others can write (0777, 0757) and writes nothing in it', async () => {
    for (const mode of [0o777, 0o757]) {
      const shared = join(dir, `shared-${mode.toString(8)}`);
      await mkdir(shared);
      await chmod(shared, mode);
      await expect(openStore(`pglite:${shared}`)).rejects.toThrow(new RegExp(`^refusing to use ${shared}: other users can write to it \\(mode 0${mode.toString(8)}\\)`));
      expect(await readdir(shared)).toEqual([]);
    }
  });
});
