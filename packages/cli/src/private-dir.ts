import { chmodSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

// A data directory holds token hashes and use counts: whoever can write it can reset a count or
// plant a hash of their own. It is owner-only (0700, its files 0600), and one that others can
// write, or that another user owns, is refused rather than repaired, since its contents can no
// longer be trusted.
//
// Why three steps and not one: PGlite (Emscripten's NODEFS) creates each file of a new database
// and then chmods it to the mode the file had in its in-memory image, 0666 for nearly all of them.
// An explicit chmod ignores the umask, so a restrictive umask alone cannot make those files
// private; only a chmod after PGlite has written them can. The umask still keeps the directories
// it creates, and each file until its chmod, owner-only.

const POSIX = process.platform !== 'win32';

/** What is wrong with a data directory. */
export type PrivateDirProblem = 'shared' | 'foreign_owner' | 'not_a_directory' | 'not_empty' | 'cannot_create';

/**
 * A data directory that cannot be made private: others can write it, another user owns it (or
 * something in it), it is not a directory, it holds something else, or it cannot be created. The message is one line and
 * says how to fix it.
 *
 * @example
 * ```ts
 * try {
 *   preparePrivateDir('./data');
 * } catch (err) {
 *   if (err instanceof PrivateDirError) console.error(err.message); // refusing to use /srv/app/data: …
 * }
 * ```
 */
export class PrivateDirError extends Error {
  override readonly name = 'PrivateDirError';
  /** The directory, absolute. */
  readonly path: string;
  readonly problem: PrivateDirProblem;

  constructor(message: string, path: string, problem: PrivateDirProblem, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.path = path;
    this.problem = problem;
  }
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
const reason = (err: unknown) => ((err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err)));

/**
 * `mkdir -p` one level at a time, each new level 0700. Node's own `mkdirSync(…, { recursive: true })`
 * loops forever, synchronously and deaf to signals, where a parent exists but refuses children
 * (`/proc/nope`); here the second ENOENT ends it.
 */
function makeDirs(path: string): boolean {
  try {
    mkdirSync(path, 0o700);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw err;
    makeDirs(parent);
    mkdirSync(path, 0o700);
    return true;
  }
}

/** What {@link preparePrivateDir} accepts in an existing directory. */
export interface PrivateDirOptions {
  /**
   * A file that marks the directory as the data directory (`PG_VERSION` for PGlite): an existing,
   * non-empty directory without it is refused, so a mistyped path never gets an unrelated tree
   * taken over and chmod-ed.
   */
  marker?: string;
  /** Names that do not count when deciding whether the directory is empty (a lock file). */
  ignore?: string[];
}

/**
 * Makes `dir` a private data directory before anything is written to it: creates it (and any
 * missing parents) owner-only, or checks an existing one. An existing directory that the group or
 * others can write, or that another user owns, is refused with a {@link PrivateDirError}; one that
 * others can only read (made by an older version, 0755) is tightened to 0700. With a `marker`, an
 * existing directory must be empty or hold that file.
 *
 * @returns `created`: the directory was new; `tightened`: an existing one lost group/other bits.
 * @example
 * ```ts
 * const { created } = preparePrivateDir('./.tokenaccess');
 * ```
 */
export function preparePrivateDir(dir: string, options: PrivateDirOptions = {}): { created: boolean; tightened: boolean } {
  const path = resolve(dir);
  let created: boolean;
  try {
    created = makeDirs(path);
  } catch (err) {
    throw new PrivateDirError(`cannot create the directory ${path} (${reason(err)})`, path, 'cannot_create', { cause: err });
  }
  let st: import('node:fs').Stats;
  try {
    st = statSync(path);
  } catch (err) {
    // a dangling symbolic link
    throw new PrivateDirError(`cannot use the directory ${path} (${reason(err)})`, path, 'not_a_directory', { cause: err });
  }
  if (!st.isDirectory()) throw new PrivateDirError(`${path} is not a directory`, path, 'not_a_directory');
  if (!POSIX) return { created, tightened: false };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new PrivateDirError(`refusing to use ${path}: it belongs to another user (uid ${st.uid}); use a directory of your own`, path, 'foreign_owner');
  }
  if ((st.mode & 0o022) !== 0) {
    throw new PrivateDirError(
      `refusing to use ${path}: other users can write to it (mode ${octal(st.mode)}); if you trust its contents, make it private with: chmod -R go-rwx ${path}`,
      path,
      'shared',
    );
  }
  if (!created && options.marker !== undefined) {
    const names = readdirSync(path).filter((n) => !(options.ignore ?? []).includes(n));
    if (names.length > 0 && !names.includes(options.marker)) {
      throw new PrivateDirError(`refusing to use ${path}: it is not empty and holds no ${options.marker}; give a new or empty directory`, path, 'not_empty');
    }
  }
  // a new one is 0700 whatever the umask; an existing 0755 one is tightened now
  const tightened = !created && (st.mode & 0o077) !== 0;
  if (created || tightened) chmodSync(path, 0o700);
  return { created, tightened };
}

/**
 * `chmod -R go-rwx` on a private data directory, after a database wrote into it: every file and
 * directory keeps only its owner's bits (0600 / 0700). Symbolic links inside it are not followed. Anything
 * owned by another user is refused with a {@link PrivateDirError}.
 *
 * @returns How many entries were tightened, and how many of those others could write (the ones
 * that matter: PostgreSQL itself leaves a few files 0644 each time it starts).
 * @example
 * ```ts
 * const db = new PGlite('./data');
 * await db.waitReady;
 * restrictPrivateDir('./data');
 * ```
 */
export function restrictPrivateDir(dir: string): { tightened: number; writable: number } {
  if (!POSIX) return { tightened: 0, writable: 0 };
  // the directory itself may be a link (pglite:./db → /data/db); what it holds is walked as is
  const root = realpathSync(resolve(dir));
  const uid = process.getuid?.();
  let tightened = 0;
  let writable = 0;
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if (uid !== undefined && st.uid !== uid) {
      throw new PrivateDirError(`refusing to use ${root}: ${path} belongs to another user (uid ${st.uid})`, root, 'foreign_owner');
    }
    if ((st.mode & 0o077) !== 0) {
      chmodSync(path, st.mode & 0o700);
      tightened++;
      if ((st.mode & 0o022) !== 0) writable++;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return { tightened, writable };
}

/**
 * Runs `fn` with the process umask at 077, so what it creates starts owner-only, and restores the
 * previous umask after. The umask is process-wide: call it where nothing else is creating files
 * (a CLI, or a server's startup). Where the umask cannot be changed (worker threads) `fn` just runs;
 * {@link restrictPrivateDir} afterwards is what guarantees the modes.
 *
 * @example
 * ```ts
 * const db = await withPrivateUmask(async () => {
 *   const db = new PGlite('./data');
 *   await db.waitReady;
 *   return db;
 * });
 * ```
 */
export async function withPrivateUmask<T>(fn: () => Promise<T>): Promise<T> {
  let previous: number | undefined;
  try {
    previous = process.umask(0o077);
  } catch {
    // ERR_WORKER_UNSUPPORTED_OPERATION
  }
  try {
    return await fn();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}
