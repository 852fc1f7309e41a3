/**
 * A stream the CLI writes to: `process.stdout` / `process.stderr`, or any object with `write`.
 *
 * @example
 * ```ts
 * let text = '';
 * const stdout: OutputStream = { write: (chunk: string) => (text += chunk) };
 * ```
 */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True on a terminal: enables colours and the progress bar. */
  isTTY?: boolean;
  /** Terminal width, for the progress bar and tables. */
  columns?: number;
}

/**
 * Where `run` reads its environment and writes its output. Every field defaults to the
 * current process's.
 *
 * @example
 * ```ts
 * await run(['list', '--json'], { env: { TOKENACCESS_STORE: 'redis://127.0.0.1:6379' }, cwd: '/srv/app' });
 * ```
 */
export interface CliIO {
  /** Results: the raw token of `issue`, the share URL, tables, JSON. */
  stdout: OutputStream;
  /** Messages, warnings, errors and the progress bar. Never a raw token. */
  stderr: OutputStream;
  /** Environment: `TOKENACCESS_STORE`, `TOKENACCESS_PEPPER`, `TOKENACCESS_PREFIX`, `NO_COLOR`, … */
  env: Record<string, string | undefined>;
  /** Directory the embedded store `./.tokenaccess/` is relative to. */
  cwd: string;
}

/** ANSI styles, active only when the stream is a TTY and colour is not switched off. */
export interface Style {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);

/**
 * Colours for one stream. Off when the stream is not a TTY, when `NO_COLOR` is set to anything
 * non-empty (https://no-color.org), when `TERM=dumb`, or with `--no-color`; `FORCE_COLOR`
 * (non-empty, not `0`) turns them on for a non-TTY.
 */
export function styleFor(stream: OutputStream, env: CliIO['env'], noColor: boolean): Style {
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0';
  const enabled = !noColor && !env.NO_COLOR && env.TERM !== 'dumb' && (stream.isTTY === true || force);
  return {
    enabled,
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
  };
}

/** Visible width of a string (ANSI escapes do not count). */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}
