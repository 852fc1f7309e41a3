/**
 * @module @tokenaccess/cli
 *
 * The `tokenaccess` command (issue, share, list, inspect, update, disable, enable, rotate, derive,
 * revoke, import, sweep, migrate) and its
 * programmatic entry, `run(argv, io)`, and the owner-only data directory checks its embedded store
 * uses (`preparePrivateDir`, `restrictPrivateDir`), for apps that open PGlite themselves.
 * `npm install -g @tokenaccess/cli` or `npx @tokenaccess/cli`.
 *
 * @example
 * ```ts
 * import { run } from '@tokenaccess/cli';
 *
 * const exitCode = await run(['issue', 'alice', '--scope', 'users:read', '--store', 'memory:']);
 * ```
 */
export { run, VERSION } from './run';
export type { CliIO, OutputStream } from './io';
export { EXIT } from './errors';
export { createProgress, type Progress, type ProgressOptions } from './progress';
export { PrivateDirError, preparePrivateDir, restrictPrivateDir, withPrivateUmask, type PrivateDirOptions, type PrivateDirProblem } from './private-dir';
