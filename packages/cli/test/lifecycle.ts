import { createTokenAccess } from '@tokenaccess/core';
import { expect, it } from 'vitest';
import type { Backend } from './flow';
import { RAW_TOKEN_RE, cli, ok } from './helpers';

interface Json {
  id: string;
  name: string;
  scopes: string[];
  expiresAt?: string;
  idleTimeout?: number;
  maxUses?: number;
  refill?: { every: number };
  rateLimit?: { limit: number; window: number };
  rateCount?: number;
  metadata?: Record<string, unknown>;
  disabledAt?: string;
  parentId?: string;
  status: string;
  url?: { url: string };
}

/**
 * update, disable / enable, rotate, derive, list --parent / --expiring and issue --refill, each
 * checked through core in this process on the same store (what an application would see).
 */
export function lifecycleTests(b: Backend): void {
  const run = (args: string[]) => ok([...args, ...b.args()], b.options());
  const issue = async (args: string[]) => JSON.parse((await run(['issue', ...args, '--json'])).stdout) as { token: string; info: Json };
  const verify = (token: string, scopes?: string[]) => b.withStore((store) => createTokenAccess({ store }).verify(token, scopes ? { scopes } : {}));
  const codes = (token: string, n: number) =>
    b.withStore(async (store) => {
      const tokens = createTokenAccess({ store });
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await tokens.verify(token);
        out.push(r.ok ? 'ok' : r.error.code);
      }
      return out;
    });

  it('update changes only what is given; the token itself keeps working', async () => {
    const { token, info } = await issue(['lc-ann', '--scope', 'a:read', '--max-uses', '5', '--meta', 'team=ops']);
    const out = JSON.parse(
      (await run(['update', info.id, '--name', 'renamed', '--scopes', 'a:read,a:write', '--expires', '30d', '--idle', '1h', '--refill', '1h', '--metadata', '{"team":"dev"}', '--json'])).stdout,
    ) as Json;
    expect(out).toMatchObject({ id: info.id, name: 'renamed', scopes: ['a:read', 'a:write'], idleTimeout: 3_600_000, maxUses: 5, refill: { every: 3_600_000 }, metadata: { team: 'dev' }, status: 'live' });
    expect(Date.parse(out.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const r = await verify(token, ['a:write']);
    expect(r.ok && r.token).toMatchObject({ id: info.id, name: 'renamed', refill: { every: 3_600_000 } });

    // clearing: never, none, unlimited, null
    const cleared = JSON.parse((await run(['update', token, '--expires', 'never', '--idle', 'none', '--max-uses', 'unlimited', '--refill', 'none', '--metadata', 'null', '--json'])).stdout) as Json;
    for (const k of ['expiresAt', 'idleTimeout', 'maxUses', 'refill', 'metadata'] as const) expect(cleared[k], k).toBeUndefined();
    const human = await run(['update', info.id, '--name', 'again']);
    expect(human.stdout).toBe(`updated ${info.id} ("again"): scopes a:read a:write, never expires, unlimited uses\n`);

    const missing = await cli(['update', '01KAT3H8W6B0Q5R2Y9D1M4N7PX', '--name', 'x', ...b.args()], b.options());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('tokenaccess: error: no token with id 01KAT3H8W6B0Q5R2Y9D1M4N7PX\n');
    const bad = await cli(['update', info.id, '--scope', 'bad"scope', ...b.args()], b.options());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tokenaccess: error: .*is not a valid scope/);
  });

  it('disable: refused as disabled, status disabled in list; enable: works again', async () => {
    const { token, info } = await issue(['lc-bea']);
    const d = await run(['disable', info.id]);
    expect(d.stdout).toBe(`disabled ${info.id} (access, subject lc-bea, "cli")\n`);
    const refused = await verify(token);
    expect(!refused.ok && refused.error.code).toBe('disabled');
    const table = await run(['list', '--subject', 'lc-bea']);
    expect(table.stdout).toMatch(new RegExp(`${info.id} .* disabled\\n`));
    const listed = JSON.parse((await run(['list', '--subject', 'lc-bea', '--json'])).stdout) as { items: Json[] };
    expect(listed.items[0]).toMatchObject({ status: 'disabled', disabledAt: expect.any(String) });
    expect((await run(['inspect', info.id])).stdout).toMatch(/^status +disabled$/m);

    const e = JSON.parse((await run(['enable', token, '--json'])).stdout) as { enabled: Json[]; count: number };
    expect(e).toMatchObject({ count: 1, enabled: [{ id: info.id, status: 'live' }] });
    expect(e.enabled[0]!.disabledAt).toBeUndefined();
    expect((await verify(token)).ok).toBe(true);
  });

  it('rotate: the new token once on stdout, the old one works for --grace, then not at all', async () => {
    const { token: old, info } = await issue(['lc-cat', '--name', 'laptop', '--scope', 'x:read', '--max-uses', '9']);
    const r = await run(['rotate', info.id, '--grace', '1h']);
    const fresh = r.stdout.trim();
    expect(r.stdout).toBe(`${fresh}\n`);
    expect(fresh).toMatch(RAW_TOKEN_RE);
    expect(r.stderr).toMatch(new RegExp(`rotated ${info.id} → [0-9A-Z]{26} \\("laptop"\\): the old token works until \\S+ \\(in (59m|1h)`));
    expect(r.stderr).not.toMatch(RAW_TOKEN_RE);
    const n = await verify(fresh, ['x:read']);
    expect(n.ok && n.token).toMatchObject({ name: 'laptop', subject: 'lc-cat', maxUses: 9 });
    expect((await verify(old)).ok).toBe(true); // within the grace

    // without grace: the old one is refused at once, as expired
    const j = JSON.parse((await run(['rotate', fresh, '--json'])).stdout) as { token: string; info: Json; previous: Json };
    expect(j.previous.id).not.toBe(j.info.id);
    const gone = await verify(fresh);
    expect(gone.ok).toBe(false);
    expect((await verify(j.token)).ok).toBe(true);

    // a share link: the new link, with the app's parameter name
    const share = JSON.parse((await run(['share', 'https://example.com/doc?id=3', '--json'])).stdout) as { info: Json };
    const link = await run(['rotate', share.info.id, '--url-param', 'TOKEN']);
    expect(link.stdout).toMatch(/^https:\/\/example\.com\/doc\?id=3&TOKEN=tka_[0-9A-Za-z]{36}\n$/);
    expect(link.stderr).toContain('the old link is refused from now on');
  });

  it('derive: a narrower child, listed by --parent; revoking the parent refuses it', async () => {
    const { info: parent } = await issue(['lc-dan', '--scope', 'docs:*', '--expires', '2d']);
    const d = await run(['derive', parent.id, '--scope', 'docs:read', '--expires', '1h', '--max-uses', '3', '--name', 'preview']);
    const child = d.stdout.trim();
    expect(d.stdout).toBe(`${child}\n`);
    expect(d.stderr).toMatch(new RegExp(`derived [0-9A-Z]{26} from ${parent.id} \\("preview"\\): scopes docs:read, expires in`));
    const v = await verify(child, ['docs:read']);
    expect(v.ok && v.token).toMatchObject({ parentId: parent.id, maxUses: 3 });
    const wider = await cli(['derive', parent.id, '--scope', 'admin', ...b.args()], b.options());
    expect(wider.code).toBe(2);
    expect(wider.stderr).toMatch(/^tokenaccess: error: .*admin/);

    const children = JSON.parse((await run(['list', '--parent', parent.id, '--json'])).stdout) as { items: Json[] };
    expect(children.items.map((t) => t.parentId)).toEqual([parent.id]);
    const soon = JSON.parse((await run(['list', '--subject', 'lc-dan', '--expiring', '2h', '--json'])).stdout) as { items: Json[] };
    expect(soon.items.map((t) => t.name)).toEqual(['preview']);
    const later = JSON.parse((await run(['list', '--subject', 'lc-dan', '--expiring', '3d', '--json'])).stdout) as { items: Json[] };
    expect(later.items).toHaveLength(2);

    await run(['revoke', parent.id]);
    const orphan = await verify(child);
    expect(orphan.ok).toBe(false);
  });

  it('--rate-limit: issue, list/inspect show the window count, update changes or removes it, share and derive', async () => {
    const { token, info } = await issue(['lc-rat', '--rate-limit', '2/1h']);
    expect(info).toMatchObject({ rateLimit: { limit: 2, window: 3_600_000 }, rateCount: 0 });
    // counted by the store: the third verification in the hour is refused
    expect(await codes(token, 3)).toEqual(['ok', 'ok', 'rate_limited']);
    const table = await run(['list', '--subject', 'lc-rat']);
    expect(table.stdout).toMatch(/ USES +RATE +EXPIRES /);
    expect(table.stdout).toMatch(new RegExp(`${info.id} .* 2/2 per 1h .* live\n`));
    expect((await run(['inspect', info.id])).stdout).toMatch(/^rate +2\/2 per 1h \(this window ends in (59m|1h)/m);
    const listed = JSON.parse((await run(['list', '--subject', 'lc-rat', '--json'])).stdout) as { items: Json[] };
    expect(listed.items[0]).toMatchObject({ rateLimit: { limit: 2, window: 3_600_000 }, rateCount: 2 });

    // a higher limit: the window's count is kept, so one more passes, then none
    const raised = JSON.parse((await run(['update', token, '--rate-limit', '3/h', '--json'])).stdout) as Json;
    expect(raised).toMatchObject({ rateLimit: { limit: 3, window: 3_600_000 }, rateCount: 2 });
    expect(await codes(token, 2)).toEqual(['ok', 'rate_limited']);
    const human = await run(['update', info.id, '--rate-limit', '100/1m']);
    expect(human.stdout).toBe(`updated ${info.id} ("cli"): scopes *, never expires, unlimited uses, rate limit 100 per 1m\n`);
    // removed: no limit, and list has no RATE column for these tokens
    const removed = JSON.parse((await run(['update', info.id, '--rate-limit', 'none', '--json'])).stdout) as Json;
    expect(removed.rateLimit).toBeUndefined();
    expect(removed.rateCount).toBeUndefined();
    expect(await codes(token, 3)).toEqual(['ok', 'ok', 'ok']);
    expect((await run(['list', '--subject', 'lc-rat'])).stdout).not.toContain('RATE');

    // a share link opened at most once a minute, and a derived token with its own limit
    const shared = JSON.parse((await run(['share', 'https://example.com/feed.xml', '--max-uses', 'unlimited', '--rate-limit', '1/1m', '--json'])).stdout) as { url: string; info: Json };
    expect(shared.info).toMatchObject({ kind: 'url', rateLimit: { limit: 1, window: 60_000 } });
    const opens = await b.withStore(async (store) => {
      const tokens = createTokenAccess({ store });
      const out: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await tokens.verifyUrl(shared.url);
        out.push(r.ok ? 'ok' : r.error.code);
      }
      return out;
    });
    expect(opens).toEqual(['ok', 'rate_limited']);
    const child = JSON.parse((await run(['derive', info.id, '--rate-limit', '5/30s', '--json'])).stdout) as { info: Json };
    expect(child.info).toMatchObject({ parentId: info.id, rateLimit: { limit: 5, window: 30_000 } });
  });

  it('issue --refill: the budget renews; usage errors for the new options', async () => {
    const { info } = await issue(['lc-eve', '--max-uses', '100', '--refill', '1d']);
    expect(info).toMatchObject({ maxUses: 100, refill: { every: 86_400_000 } });
    expect((await run(['list', '--subject', 'lc-eve'])).stdout).toMatch(/0\/100 per 1d/);
    for (const [args, pattern] of [
      [['issue', 'x', '--refill', 'soon'], /--refill must be a duration/],
      [['issue', 'x', '--refill', 'none'], /--refill none applies to update/],
      [['update', info.id], /update what\?/],
      [['update', info.id, '--metadata', '[1]'], /--metadata must be a JSON object or null/],
      [['rotate'], /rotate takes one id \| token/],
      [['list', '--expiring', 'soon'], /--expiring must be a duration/],
      [['disable'], /disable what\?/],
      [['update', info.id, '--rate-limit', 'lots'], /--rate-limit must be <limit>\/<window>, like 100\/1m or 5000\/1h \(got "lots"\)/],
      [['update', info.id, '--rate-limit', '10/500ms'], /--rate-limit: the window must be whole seconds from 1s to 366d/],
    ] as const) {
      const r = await cli([...args, ...b.args()], b.options());
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });
}
