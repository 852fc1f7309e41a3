/**
 * @module @tokenaccess/cli
 *
 * The `tokenaccess` command (issue, share, list, inspect, revoke, sweep, migrate) and its
 * programmatic entry, `run(argv, io)`. `npm install -g @tokenaccess/cli` or `npx @tokenaccess/cli`.
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
