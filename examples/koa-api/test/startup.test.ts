// Start-up failures of the example server are one clear line on stderr and a non-zero exit,
// never a stack trace (the server is what `npm start` runs).
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const cwd = fileURLToPath(new URL('..', import.meta.url));

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('a busy port: one line, exit 1', async () => {
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const { port } = blocker.address() as AddressInfo;
  try {
    const out = await start({ PORT: String(port), TOKENACCESS_STORE: 'memory:' });
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe(`koa-api: port ${port} is in use (set PORT=… to use another)`);
  } finally {
    blocker.close();
  }
});

it('an unreachable store: one line naming it (password masked), exit 1', async () => {
  const out = await start({ PORT: '0', TOKENACCESS_STORE: 'postgres://demo:secret@127.0.0.1:1/test' });
  expect(out.code).toBe(1);
  const lines = out.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^koa-api: cannot open the store postgres:\/\/demo:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
  expect(out.stderr).not.toContain('secret');
});

it('an unreachable Redis: one line, exit 1', async () => {
  const out = await start({ PORT: '0', TOKENACCESS_STORE: 'redis://127.0.0.1:1' });
  expect(out.code).toBe(1);
  expect(out.stderr.trim().split('\n')).toHaveLength(1);
  expect(out.stderr).toMatch(/^koa-api: cannot open the store redis:\/\/127\.0\.0\.1:1: /);
});

it('shares the CLI’s Redis store by default: a token issued with the CLI is seen by the server’s store', async () => {
  const { openStore } = await import('../src/store');
  const { createTokenAccess } = await import('@tokenaccess/core');
  const subject = `shared-${process.pid}-${Date.now()}`;
  const cli = fileURLToPath(new URL('../../../node_modules/.bin/tokenaccess', import.meta.url));
  const issued = await new Promise<string>((resolve, reject) => {
    const child = spawn(cli, ['issue', subject, '--name', 'from the CLI', '--store', 'redis://127.0.0.1:6379', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`tokenaccess issue exited ${code}`))));
  });
  const { token } = JSON.parse(issued) as { token: string };
  const opened = await openStore('redis://127.0.0.1:6379');
  try {
    const tokens = createTokenAccess({ store: opened.store });
    const seen = await tokens.verify(token);
    expect(seen.ok && seen.token.subject).toBe(subject);
  } finally {
    await createTokenAccess({ store: opened.store }).revokeAll(subject);
    await opened.close();
  }
});
