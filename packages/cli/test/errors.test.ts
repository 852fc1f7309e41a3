import { type AddressInfo, type Socket, createServer } from 'node:net';
import { startTcpProxy } from 'test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, cli, ok, start, tempDir } from './helpers';

/** One line on stderr, the documented prefix, no stack trace, nothing on stdout. */
function oneLine(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp) {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  // notices (`tokenaccess: the memory: store …`) may come first
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !/^tokenaccess: (?!error: )/.test(l));
  expect(lines[0]).toMatch(/^tokenaccess: error: /);
  expect(lines[0]).toMatch(pattern);
  // at most a `hint:` line after it
  expect(lines.slice(1).every((l) => l.startsWith('hint: '))).toBe(true);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('usage, errors and exit codes', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('errors'));
  });
  afterAll(() => remove?.());
  const run = (args: string[], env?: Record<string, string>) => cli(args, { cwd: dir, ...(env ? { env } : {}) });

  it('--version, help, help <command>, <command> --help', async () => {
    const { version } = (await import('../package.json')).default;
    expect((await ok(['--version'], { cwd: dir })).stdout).toBe(`${version}\n`);
    const help = await ok(['help'], { cwd: dir });
    for (const c of ['issue', 'share', 'list', 'inspect', 'revoke', 'sweep', 'migrate']) expect(help.stdout).toContain(`  ${c} `);
    expect(help.stdout).toContain('TOKENACCESS_STORE');
    expect(help.stdout).not.toContain('\x1b['); // not a TTY: no colours
    expect((await ok([], { cwd: dir })).stdout).toBe(help.stdout);
    const issueHelp = await ok(['issue', '--help'], { cwd: dir });
    expect(issueHelp.stdout).toContain('Usage: tokenaccess issue <subject> [options]');
    expect(issueHelp.stdout).toContain('--max-uses <n>');
    expect((await ok(['help', 'issue'], { cwd: dir })).stdout).toBe(issueHelp.stdout);
    // nothing was opened or created for help
    expect((await import('node:fs')).existsSync(`${dir}/.tokenaccess`)).toBe(false);
  });

  it('usage errors exit 2 before any store is opened', async () => {
    oneLine(await run(['lsit']), 2, /unknown command "lsit"/);
    expect((await run(['lsit'])).stderr).toContain('hint: did you mean list?');
    oneLine(await run(['list', '--frobnicate']), 2, /unknown option '--frobnicate'/);
    oneLine(await run(['issue']), 2, /issue needs a subject/);
    oneLine(await run(['issue', 'a', '--expires', 'soon']), 2, /--expires must be a duration like 30m, 12h, 90d or 2w \(got "soon"\)/);
    oneLine(await run(['issue', 'a', '--expires', '90']), 2, /--expires needs a unit/);
    oneLine(await run(['issue', 'a', '--expires-at', 'yesterday']), 2, /--expires-at must be an ISO 8601 date/);
    oneLine(await run(['issue', 'a', '--max-uses', '0']), 2, /--max-uses must be a positive integer/);
    oneLine(await run(['issue', 'a', '--prefix', 'Bad!']), 2, /prefix must match/);
    oneLine(await run(['issue', 'a', '--pepper', 'short']), 2, /at least 16 characters/);
    oneLine(await run(['list', '--kind', 'other']), 2, /--kind must be access or url/);
    oneLine(await run(['revoke']), 2, /revoke what\?/);
    oneLine(await run(['inspect', 'tka_nope']), 2, /not a well-formed token/);
    oneLine(await run(['list', '--store', 'ftp://example.com']), 2, /unsupported store URL "ftp:\/\/example.com"/);
    oneLine(await run(['list', '--store', 'pglite:']), 2, /pglite: needs a directory/);
    oneLine(await run(['issue', 'a', '--rate-limit', '100']), 2, /--rate-limit must be <limit>\/<window>, like 100\/1m or 5000\/1h \(got "100"\)$/);
    oneLine(await run(['issue', 'a', '--rate-limit', '0/1m']), 2, /--rate-limit: the limit must be a whole number from 1 to 1000000000 \(got "0\/1m"\)$/);
    oneLine(await run(['issue', 'a', '--rate-limit', '1.5/1m']), 2, /--rate-limit: the limit must be a whole number/);
    oneLine(await run(['issue', 'a', '--rate-limit', '100/60']), 2, /--rate-limit: the window must be a duration like 1s, 1m, 1h or 1d \(got "100\/60"\)$/);
    oneLine(await run(['issue', 'a', '--rate-limit', '100/1y']), 2, /--rate-limit: the window must be a duration/);
    oneLine(await run(['issue', 'a', '--rate-limit', '100/367d']), 2, /--rate-limit: the window must be whole seconds from 1s to 366d \(got "100\/367d"\)$/);
    oneLine(await run(['issue', 'a', '--rate-limit', '100/1500ms']), 2, /--rate-limit: the window must be whole seconds/);
    oneLine(await run(['share', '/x', '--rate-limit', 'none']), 2, /--rate-limit none applies to update and derive/);
    oneLine(await run(['update', '01KAT3H8W6B0Q5R2Y9D1M4N7PX', '--rate-limit', '-5/1m']), 2, /--rate-limit: the limit must be a whole number .*\(got "-5\/1m"\)$/);
    // validation before the store: none was created
    expect((await import('node:fs')).existsSync(`${dir}/.tokenaccess`)).toBe(false);
  });

  it('a value that starts with "-" is judged by its option, in one line (not "ambiguous")', async () => {
    oneLine(await run(['issue', 'a', '--expires', '-5d']), 2, /--expires must be a duration like 30m, 12h, 90d or 2w \(got "-5d"\)$/);
    oneLine(await run(['issue', 'a', '-e', '-5d']), 2, /--expires must be a duration like 30m, 12h, 90d or 2w \(got "-5d"\)$/);
    oneLine(await run(['list', '--limit', '-1']), 2, /--limit must be a positive integer \(got "-1"\)$/);
    oneLine(await run(['sweep', '--batch-size', '-10']), 2, /--batch-size must be a positive integer \(got "-10"\)$/);
    // a real option where a value belongs: still one line, saying how to pass a value with a dash
    const r = await run(['issue', 'a', '--name', '--json']);
    oneLine(r, 2, /--name needs a value, but an option follows it \(write --name=<value> for a value that starts with "-"\)$/);
    expect(r.stderr).not.toMatch(/ambiguous|Did you forget/);
    expect((await import('node:fs')).existsSync(`${dir}/.tokenaccess`)).toBe(false);
  });

  it('a store URL its driver cannot parse is a usage error (2), not a connection failure (1)', async () => {
    oneLine(await run(['list', '--store', 'postgres://[bad']), 2, /^tokenaccess: error: bad PostgreSQL URL "postgres:\/\/\[bad": Invalid URL$/);
    const port = await run(['list', '--store', 'postgresql://app:secret@db.invalid:99999/x']);
    oneLine(port, 2, /^tokenaccess: error: bad PostgreSQL URL "postgresql:\/\/app:\*\*\*@db.invalid:99999\/x": Invalid URL$/);
    expect(port.stderr).not.toContain('secret');
    oneLine(await run(['list', '--store', 'redis://[bad']), 2, /^tokenaccess: error: bad Redis URL "redis:\/\/\[bad": /);
    oneLine(await run(['list', '--store', 'mongodb://[bad']), 2, /^tokenaccess: error: bad MongoDB URL "mongodb:\/\/\[bad": /);
    // a channel NOTIFY cannot take: refused before connecting (nothing listens on port 1, which would be exit 1)
    oneLine(await run(['revoke', '01KAT3H8W6B0Q5R2Y9D1M4N7PX', '--store', 'postgres://postgres@127.0.0.1:1/test', '--channel', 'bad-name']), 2, /^tokenaccess: error: --channel must be a PostgreSQL identifier .*\(got "bad-name"\)$/);
  });

  it('SIGTERM and SIGINT end a command that is waiting on its store (143 / 130)', async () => {
    // a server that accepts and never answers, and says when the command has connected to it
    const sockets: Socket[] = [];
    let connected!: () => void;
    const server = createServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `postgres://postgres@127.0.0.1:${(server.address() as AddressInfo).port}/test`;
    try {
      for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
        const waiting = new Promise<void>((resolve) => (connected = resolve));
        const p = start(['list', '--store', url, '--connect-timeout', '10m'], { cwd: dir });
        await waiting;
        p.child.kill(signal);
        const r = await p.done;
        expect(r.code).toBe(code);
        expect(r.stderr).toContain('tokenaccess: interrupted');
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('invalid scope and bad URL are usage errors from core, without the library prefix', async () => {
    oneLine(await run(['issue', 'a', '--scope', 'bad"scope', '--store', 'memory:']), 2, /^tokenaccess: error: scopes: "bad\\"scope" is not a valid scope/);
    oneLine(await run(['share', 'ftp://example.com/x', '--store', 'memory:']), 2, /url must use http or https/);
    oneLine(await run(['share', 'files/7', '--store', 'memory:']), 2, /url must be absolute/);
    oneLine(await run(['issue', 'a', '--expires-at', '2001-01-01', '--store', 'memory:']), 2, /expiresAt is in the past/);
  });

  it('memory: says it is per-process', async () => {
    const r = await ok(['issue', 'a', '--store', 'memory:'], { cwd: dir });
    expect(r.stderr).toContain('the memory: store lives only as long as this command');
  });

  it('an unknown id exits 1', async () => {
    oneLine(await run(['inspect', '01KAT3H8W6B0Q5R2Y9D1M4N7PX', '--store', 'memory:']), 1, /no token with id 01KAT3H8W6B0Q5R2Y9D1M4N7PX$/);
    oneLine(await run(['revoke', '01KAT3H8W6B0Q5R2Y9D1M4N7PX', '--store', 'memory:']), 1, /no token with id/);
  });

  it('unreachable Postgres: refused, and a server that never answers (connect timeout)', async () => {
    const refused = await run(['list', '--store', 'postgres://postgres@127.0.0.1:1/test']);
    oneLine(refused, 1, /cannot connect to postgres:\/\/postgres@127.0.0.1:1\/test: connect ECONNREFUSED/);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    try {
      proxy.cut('blackhole');
      const hung = await run(['list', '--store', `postgres://postgres:secret@127.0.0.1:${proxy.port}/test`, '--connect-timeout', '500ms']);
      oneLine(hung, 1, /cannot connect to postgres:\/\/postgres:\*\*\*@127.0.0.1:\d+\/test: .*timeout/i);
      expect(hung.stderr).not.toContain('secret');
    } finally {
      await proxy.close();
    }
  });

  it('unreachable Redis: refused, and a server that never answers', async () => {
    oneLine(await run(['list', '--store', 'redis://127.0.0.1:1']), 1, /cannot connect to redis:\/\/127.0.0.1:1: connect ECONNREFUSED/);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
    try {
      proxy.cut('blackhole');
      oneLine(await run(['list', '--store', `redis://127.0.0.1:${proxy.port}`, '--connect-timeout', '500ms']), 1, /cannot connect to redis:\/\/127.0.0.1:\d+: connection timed out after 500 ms$/);
    } finally {
      await proxy.close();
    }
  });

  it('unreachable MongoDB exits 1 after the server selection timeout', async () => {
    oneLine(await run(['list', '--store', 'mongodb://127.0.0.1:1/app', '--connect-timeout', '500ms']), 1, /cannot connect to mongodb:\/\/127.0.0.1:1\/app: /);
  });

  it('--debug adds the stack trace (and its causes)', async () => {
    const r = await run(['list', '--store', 'postgres://postgres@127.0.0.1:1/test', '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tokenaccess: error: cannot connect/);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('NO_COLOR and pipes: no escape codes; FORCE_COLOR: colours on stderr', async () => {
    const plain = await run(['lsit'], { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(plain.stderr).toMatch(/^tokenaccess: error: unknown command "lsit"/);
    expect(plain.stderr).not.toContain('\x1b[');
    const forced = await run(['lsit'], { FORCE_COLOR: '1' });
    expect(forced.stderr).toContain('\x1b[31mtokenaccess: error:\x1b[39m');
    const off = await run(['lsit', '--no-color'], { FORCE_COLOR: '1' });
    expect(off.stderr).toMatch(/^tokenaccess: error: unknown command "lsit"/);
    expect(off.stderr).not.toContain('\x1b[');
  });
});
