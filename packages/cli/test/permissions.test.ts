import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, modes, ok, openToOthers, tempDir } from './helpers';

/** A refusal: exit 2, one line on stderr, nothing on stdout, no stack trace. */
function refused(r: CliResult, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^tokenaccess: error: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
}

const octal = (mode: number) => `0${mode.toString(8)}`;

/**
 * The store's files hold token hashes and use counts: whoever can write them can reset a count or
 * plant a hash. Under a umask of 022 (the usual one) PGlite alone leaves ~970 of them 0666.
 */
describe.runIf(process.platform !== 'win32')('the PGlite store directory is owner-only', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('perm'));
  });
  afterAll(() => remove?.());
  const umask = 0o022;

  it('the embedded store: created 0700 / 0600 under umask 022, and still so after more commands', async () => {
    const cwd = join(dir, 'embedded');
    mkdirSync(cwd);
    await ok(['issue', 'alice', '--max-uses', '3'], { cwd, umask });
    const store = join(cwd, '.tokenaccess');
    // the walk really sees PGlite's files (a few files would prove nothing)
    expect(modes(store).length).toBeGreaterThan(500);
    expect(openToOthers(store)).toEqual([]);
    expect(statSync(store).mode & 0o777).toBe(0o700);
    expect(statSync(join(store, '.gitignore')).mode & 0o777).toBe(0o600);
    expect(statSync(join(store, 'pgdata', 'PG_VERSION')).mode & 0o777).toBe(0o600);
    // reopening makes PostgreSQL write new files (pg_internal.init): they are tightened too
    const { token } = JSON.parse((await ok(['issue', 'bob', '--json'], { cwd, umask })).stdout) as { token: string };
    await ok(['inspect', token], { cwd, umask });
    await ok(['sweep'], { cwd, umask });
    expect(openToOthers(store)).toEqual([]);
  });

  it('pglite:<dir> given by the user, parents included', async () => {
    const cwd = join(dir, 'given');
    mkdirSync(cwd);
    await ok(['issue', 'carol', '--store', 'pglite:./data/tokens'], { cwd, umask });
    expect(modes(join(cwd, 'data', 'tokens')).length).toBeGreaterThan(500);
    expect(openToOthers(join(cwd, 'data'))).toEqual([]);
    expect(statSync(join(cwd, 'data')).mode & 0o777).toBe(0o700);
    // the lock lives in the data directory while a command runs, and is gone after
    expect(existsSync(join(cwd, 'data', 'tokens', 'lock'))).toBe(false);
    // through a symbolic link to a new directory: what the link points at is made private
    mkdirSync(join(cwd, 'real'), 0o700);
    symlinkSync(join(cwd, 'real'), join(cwd, 'link'));
    await ok(['issue', 'carol', '--store', 'pglite:./link'], { cwd, umask });
    expect(modes(join(cwd, 'real')).length).toBeGreaterThan(500);
    expect(openToOthers(join(cwd, 'real'))).toEqual([]);
  });

  it('refuses a directory that others can write (0777, 0757, 0770), and writes nothing in it', async () => {
    for (const mode of [0o777, 0o757, 0o770]) {
      // the embedded store's directory
      const cwd = join(dir, `shared-${octal(mode)}`);
      const store = join(cwd, '.tokenaccess');
      mkdirSync(store, { recursive: true });
      chmodSync(store, mode);
      refused(await cli(['list'], { cwd, umask }), new RegExp(`^tokenaccess: error: refusing to use ${store}: other users can write to it \\(mode ${octal(mode)}\\); .*chmod -R go-rwx ${store}\\n$`));
      expect(readdirSync(store)).toEqual([]);
      expect(statSync(store).mode & 0o777).toBe(mode);
      // a pglite: directory
      const given = join(cwd, 'db');
      mkdirSync(given);
      chmodSync(given, mode);
      refused(await cli(['issue', 'x', '--store', `pglite:${given}`], { cwd, umask }), new RegExp(`refusing to use ${given}: other users can write to it \\(mode ${octal(mode)}\\)`));
      expect(readdirSync(given)).toEqual([]);
    }
  });

  it('refuses a directory that belongs to another user', async () => {
    // as root: a directory handed to "nobody"; as anyone else, / belongs to root (and nothing is written there either way)
    let foreign = '/';
    if (process.getuid?.() === 0) {
      foreign = join(dir, 'foreign');
      mkdirSync(foreign, 0o700);
      chownSync(foreign, 65534, 65534);
    }
    refused(await cli(['list', '--store', `pglite:${foreign}`], { cwd: dir }), /^tokenaccess: error: refusing to use \/\S*: it belongs to another user \(uid \d+\)/);
  });

  it('a store made before this release (dirs 0755, files 0666) is tightened on open, with a notice, and works', async () => {
    const cwd = join(dir, 'old');
    mkdirSync(cwd);
    const { info } = JSON.parse((await ok(['issue', 'dave', '--json'], { cwd })).stdout) as { info: { id: string } };
    const store = join(cwd, '.tokenaccess');
    for (const e of modes(store)) chmodSync(e.path, statSync(e.path).isDirectory() ? 0o755 : 0o666);
    expect(openToOthers(store).length).toBeGreaterThan(500);
    const r = await ok(['inspect', info.id], { cwd, umask });
    expect(r.stdout).toContain(info.id);
    expect(r.stderr).toMatch(/^tokenaccess: made \.\/\.tokenaccess\/ owner-only: \d+ of its files and directories were writable by other users/);
    expect(openToOthers(store)).toEqual([]);
    // once is enough: the next command has nothing to say
    expect((await ok(['inspect', info.id], { cwd, umask })).stderr).toBe('');
  });

  it('pglite:<dir> that holds something else is refused and left as it was', async () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'README.md'), '# not a database\n');
    chmodSync(join(project, 'README.md'), 0o644);
    refused(await cli(['list', '--store', 'pglite:./project'], { cwd: dir }), new RegExp(`refusing to use ${project}: it is not empty and holds no PG_VERSION`));
    expect(readdirSync(project)).toEqual(['README.md']);
    expect(statSync(join(project, 'README.md')).mode & 0o777).toBe(0o644);
  });

  it.runIf(existsSync('/proc/self'))('pglite:/proc/nope fails at once with exit 2 (Node’s recursive mkdir spins there)', async () => {
    // `cli` kills a command that has not exited after 30 s and fails the test: a spin is a failure
    refused(await cli(['list', '--store', 'pglite:/proc/nope'], { cwd: dir }), /^tokenaccess: error: cannot create the directory \/proc\/nope \(ENOENT\)\n$/);
  });
});
