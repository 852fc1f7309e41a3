import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index';
import { issueForSeed } from './examples/programmatic';

/** The programmatic entry, in process (the subprocess tests cover the bin). */
describe('run(argv, io)', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) }, env: {}, cwd: tmpdir() },
    };
  };

  it('returns exit codes and writes only to the given streams', async () => {
    const a = capture();
    expect(await run(['issue', 'u1', '--store', 'memory:', '--json'], a.io)).toBe(0);
    expect(JSON.parse(a.out.stdout)).toMatchObject({ token: expect.stringMatching(/^tka_/), info: { subject: 'u1' } });
    expect(a.out.stderr).toContain('memory: store lives only as long as this command');
    const b = capture();
    expect(await run(['issue', 'u1', '--expires', 'later', '--store', 'memory:'], b.io)).toBe(2);
    expect(b.out.stdout).toBe('');
    expect(b.out.stderr).toBe('tokenaccess: error: --expires must be a duration like 30m, 12h, 90d or 2w (got "later")\n');
    const c = capture();
    expect(await run(['inspect', '01KAT3H8W6B0Q5R2Y9D1M4N7PX', '--store', 'memory:'], c.io)).toBe(1);
  });

  it('reads TOKENACCESS_STORE from io.env and the embedded store from io.cwd', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tka-cli-run-'));
    try {
      const a = capture();
      expect(await run(['list', '--json'], { ...a.io, env: { TOKENACCESS_STORE: 'memory:' }, cwd: dir })).toBe(0);
      expect(JSON.parse(a.out.stdout)).toEqual({ items: [], count: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the documented example works', async () => {
    expect(await issueForSeed('memory:')).toMatch(/^tka_[0-9A-Za-z]{36}$/);
  });
});
