import { type ChildProcess, spawn } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

/** The built command (global-setup fails the run when it is missing). */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** The local servers (override like the store packages' tests do). */
export const POSTGRES_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Kill the process after this many ms (a hang is a failure, not a timeout of the test). @default 30000 */
  killAfter?: number;
  /** Run under this umask (through `sh -c 'umask …; exec node …'`), as a user's shell would. */
  umask?: number;
}

/** An environment without the caller's TOKENACCESS_* and colour settings, so runs are reproducible. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('TOKENACCESS_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * Starts `node dist/bin.js ...args`: the child (to signal it) and its end (exit code and output;
 * rejects when it is still running after `killAfter`).
 */
export function start(args: string[], options: CliOptions): { child: ChildProcess; done: Promise<CliResult> } {
  const command = [process.execPath, BIN, ...args];
  const child =
    options.umask === undefined
      ? spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, ...command], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tokenaccess ${args.join(' ')} did not exit within ${options.killAfter ?? 90_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.killAfter ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs `node dist/bin.js ...args` and collects its output and exit code. */
export function cli(args: string[], options: CliOptions): Promise<CliResult> {
  return start(args, options).done;
}

/** Runs the command and expects exit 0; returns its output. */
export async function ok(args: string[], options: CliOptions): Promise<CliResult> {
  const r = await cli(args, options);
  if (r.code !== 0) throw new Error(`tokenaccess ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export async function tempDir(tag: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `tka-cli-${tag}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const randomName = (tag: string) => `tka_cli_${tag}_${randomBytes(5).toString('hex')}`;

/** A raw token shape, to prove one never appears where it must not. */
export const RAW_TOKEN_RE = /\btka_[0-9A-Za-z]{36}\b/;

/** Every file and directory under `root` (itself included, symlinks not followed) with its permission bits. */
export function modes(root: string): { path: string; mode: number }[] {
  const out: { path: string; mode: number }[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path);
    out.push({ path, mode: st.mode & 0o777 });
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return out;
}

/** Those of {@link modes} that the group or others may read, write or enter, as `0644 path`. */
export function openToOthers(root: string): string[] {
  return modes(root)
    .filter((e) => (e.mode & 0o077) !== 0)
    .map((e) => `0${e.mode.toString(8)} ${e.path.slice(root.length) || '.'}`);
}
