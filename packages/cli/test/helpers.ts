import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

/** The built command. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The local servers (override like the store packages' tests do). */
export const POSTGRES_URL = process.env.TOKENACCESS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TOKENACCESS_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a workspace package's dist exists (the built CLI imports it at runtime). */
export function built(pkg: 'core' | 'postgres' | 'redis' | 'mongodb'): boolean {
  const ok = existsSync(join(ROOT, 'packages', pkg, 'dist', 'index.js'));
  if (!ok) console.warn(`[cli tests] skipping the ${pkg} backend: packages/${pkg}/dist is missing (it did not build)`);
  return ok;
}

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

/** Runs `node dist/bin.js ...args` and collects its output and exit code. */
export function cli(args: string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tokenaccess ${args.join(' ')} did not exit within ${options.killAfter ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.killAfter ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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
