// A newcomer's first minutes, on a fresh clone of this repository: the README's first command
// (`npm install && npm start`) and then every command the banner of `npm start` prints, verbatim
// (the curl session and the CLI). No command may resolve a package from the registry: npm runs
// with an unreachable registry and offline once installed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8' }).trim();
const clone = mkdtempSync(join(tmpdir(), 'tokenaccess-clone-'));
const offline = { ...process.env, npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/', npm_config_update_notifier: 'false' };
let server: ChildProcess | undefined;
let banner = '';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const bash = (script: string) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], { cwd: clone, env: offline });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });

/** The commands of a banner section: comment and blank lines dropped, `\` continuations joined. */
function commands(section: string): string[] {
  return section
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && /^(?:[A-Z]+=\$\(|curl |npx |npm )/.test(l));
}

beforeAll(async () => {
  execFileSync('git', ['clone', '--quiet', repo, clone]);
  // the README's first command, `npm install && npm start`, in its two halves
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: clone, stdio: 'ignore', env: { ...process.env, npm_config_update_notifier: 'false' } });
  const port = await freePort();
  server = spawn('npm', ['start'], { cwd: clone, env: { ...offline, PORT: String(port), NEXT_TELEMETRY_DISABLED: '1', TURBO_TELEMETRY_DISABLED: '1' }, detached: true });
  await new Promise<void>((resolve, reject) => {
    server!.stdout!.on('data', (d) => {
      banner += d;
      if (banner.includes('npx tokenaccess help')) resolve();
    });
    server!.stderr!.on('data', (d) => (banner += d));
    server!.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${banner}`)));
  });
});

afterAll(() => {
  if (server?.pid) process.kill(-server.pid, 'SIGTERM');
  rmSync(clone, { recursive: true, force: true });
});

describe('a fresh clone: npm install && npm start, then the banner, verbatim', () => {
  it('the curl session works as printed', async () => {
    const session = banner.slice(banner.indexOf('Try it'), banner.indexOf('The CLI'));
    const lines = commands(session);
    expect(lines.length).toBeGreaterThan(10);
    const { code, out } = await bash(lines.join('\n'));
    expect(code, out).toBe(0);
    expect(out).toMatch(/^tka_\w{36}$/m); // the raw token, shown once
    expect(out).toMatch(/HTTP\/1\.1 403 Forbidden/); // POST without users:write
    expect(out).toMatch(/HTTP\/1\.1 401 Unauthorized/); // no token
    expect(out).toMatch(/^200 \d+ bytes$/m); // the one-time download
    expect(out).toMatch(/^401$/m); // the second download
  });

  it('every CLI command it prints runs from the clone, without the registry', async () => {
    const cli = commands(banner.slice(banner.indexOf('The CLI')));
    expect(cli.filter((l) => l.includes('tokenaccess'))).toHaveLength(4);
    for (const line of cli) {
      const { code, out } = await bash(line);
      expect(code, `${line}\n${out}`).toBe(0);
    }
    const listed = await bash(cli.find((l) => / list$/.test(l))!);
    expect(listed.out).toContain('nightly job');
  });
});
