import { type TokenStore, createTokenAccess } from '@tokenaccess/core';
import { expect, it } from 'vitest';
import { type CliOptions, RAW_TOKEN_RE, cli, ok } from './helpers';

export interface Backend {
  /** Arguments selecting the store (`--store …`, `--key-prefix …`); empty for the embedded store. */
  args: () => string[];
  options: () => CliOptions;
  /** Runs `fn` on the same store, opened in this process (and closed after: PGlite is single-process). */
  withStore<T>(fn: (store: TokenStore) => Promise<T>): Promise<T>;
}

/**
 * The round trip every backend must pass: issue → list/inspect (never the raw token) →
 * verify through core in this process → revoke → refused; share → the link works once.
 */
export function flowTests(b: Backend): void {
  const run = (args: string[]) => ok([...args, ...b.args()], b.options());
  const verify = (token: string, scopes?: string[]) =>
    b.withStore((store) => createTokenAccess({ store }).verify(token, scopes ? { scopes } : {}));

  it('issue → list → inspect → verify (core) → revoke → refused', async () => {
    const issued = await run(['issue', 'alice', '--name', "Alice's laptop", '--scope', 'users:read', '--scope', 'users:write', '--expires', '1d', '--json']);
    const out = JSON.parse(issued.stdout) as { token: string; info: { id: string; subject: string; scopes: string[]; expiresAt: string } };
    expect(out.token).toMatch(RAW_TOKEN_RE);
    expect(out.info).toMatchObject({ subject: 'alice', scopes: ['users:read', 'users:write'] });
    expect(issued.stderr).not.toContain(out.token);
    const id = out.info.id;

    // the human form: the raw token alone on stdout, the rest on stderr
    const human = await run(['issue', 'bob', '--scope', 'reports:read', '--max-uses', '5']);
    const bobToken = human.stdout.trim();
    expect(human.stdout).toBe(`${bobToken}\n`);
    expect(bobToken).toMatch(RAW_TOKEN_RE);
    expect(human.stderr).toContain('bob');
    expect(human.stderr).toContain('only time');
    expect(human.stderr).not.toMatch(RAW_TOKEN_RE);

    const table = await run(['list']);
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain("Alice's laptop");
    expect(table.stdout).toMatch(/ID\s+KIND\s+SUBJECT/);
    const listJson = await run(['list', '--json']);
    const listed = JSON.parse(listJson.stdout) as { items: { id: string; subject: string; status: string }[] };
    expect(listed.items.map((t) => t.id)).toContain(id);
    const onlyAlice = JSON.parse((await run(['list', '--subject', 'alice', '--json'])).stdout) as { items: { subject: string }[] };
    expect(onlyAlice.items.length).toBeGreaterThan(0);
    expect(onlyAlice.items.every((t) => t.subject === 'alice')).toBe(true);

    const byId = await run(['inspect', id]);
    const byToken = await run(['inspect', out.token, '--json']);
    expect(byId.stdout).toContain(id);
    expect(byId.stdout).toContain('users:read users:write');
    expect((JSON.parse(byToken.stdout) as { id: string }).id).toBe(id);
    for (const r of [table, listJson, byId, byToken]) {
      expect(r.stdout + r.stderr).not.toMatch(RAW_TOKEN_RE);
      expect(r.stdout).not.toContain('"token"');
    }

    const good = await verify(out.token, ['users:read']);
    expect(good.ok && good.token.id).toBe(id);
    const scoped = await verify(out.token, ['admin']);
    expect(!scoped.ok && scoped.error.code).toBe('insufficient_scope');

    const revoked = await run(['revoke', id]);
    expect(revoked.stdout).toContain(`revoked ${id}`);
    const after = await verify(out.token);
    expect(!after.ok && after.error.code).toBe('not_found');

    const again = await cli(['revoke', id, ...b.args()], b.options());
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`tokenaccess: error: no token with id ${id}\n`);

    // revoke by raw token, and bulk by subject
    const bob = await verify(bobToken, ['reports:read']);
    expect(bob.ok).toBe(true);
    const bulk = await run(['revoke', '--subject', 'bob', '--json']);
    expect(JSON.parse(bulk.stdout)).toMatchObject({ count: 1, subject: 'bob' });
    const bobAfter = await verify(bobToken);
    expect(!bobAfter.ok && bobAfter.error.code).toBe('not_found');
  });

  it('revoke <token> deletes by the raw token (never echoed back)', async () => {
    const token = (await run(['issue', 'carol'])).stdout.trim();
    const r = await run(['revoke', token]);
    expect(r.stdout).toMatch(/^revoked [0-9A-Z]{26} \(access, subject carol, "cli"\)\n$/);
    const gone = await cli(['revoke', token, ...b.args()], b.options());
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no token matching ${token.slice(0, 8)}…`);
    expect(gone.stderr).not.toContain(token);
  });

  it('share: the printed link opens once through core verifyUrl', async () => {
    const shared = await run(['share', 'https://example.com/files?id=7', '--expires', '1h', '--json']);
    const out = JSON.parse(shared.stdout) as { token: string; url: string; info: { id: string; kind: string; maxUses: number } };
    expect(out.url).toBe(`https://example.com/files?id=7&token=${out.token}`);
    expect(out.info).toMatchObject({ kind: 'url', maxUses: 1 });

    const human = await run(['share', '/reports/q3?format=pdf', '--max-uses', '2', '--method', 'GET,POST']);
    expect(human.stdout).toMatch(/^\/reports\/q3\?format=pdf&token=tka_[0-9A-Za-z]{36}\n$/);
    expect(human.stderr).not.toMatch(RAW_TOKEN_RE);

    const humanId = await b.withStore(async (store) => {
      const tokens = createTokenAccess({ store });
      const wrong = await tokens.verifyUrl(out.url.replace('id=7', 'id=8'));
      expect(!wrong.ok && wrong.error.code).toBe('url_mismatch');
      const first = await tokens.verifyUrl(out.url);
      expect(first.ok && first.token.id).toBe(out.info.id);
      const second = await tokens.verifyUrl(out.url);
      expect(second.ok).toBe(false);
      const link = human.stdout.trim();
      const post = await tokens.verifyUrl(link, { method: 'POST' });
      expect(post.ok).toBe(true);
      expect((await tokens.verifyUrl(link, { method: 'DELETE' })).ok).toBe(false);
      return post.ok ? post.token.id : undefined;
    });

    // --kind url lists the live link (so the next check is not about an empty list) and no access token
    const listed = JSON.parse((await run(['list', '--kind', 'url', '--json'])).stdout) as { items: { id: string; kind: string }[] };
    expect(listed.items.map((t) => t.id)).toContain(humanId);
    expect(listed.items.every((t) => t.kind === 'url')).toBe(true);
  });
}
