import type { TokenInfo } from '@tokenaccess/core';
import type { Context } from '../context';
import { duration, positiveInt, str } from '../context';
import { usage } from '../errors';
import { isExpired, plural, table, tokenJson, tokenRows } from '../format';

/** `tokenaccess list`: pages through the store until `--limit` tokens (after `--expired`) are found. */
export async function listCommand(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw usage(`list takes no arguments (got ${JSON.stringify(ctx.args[0])})`, 'filter with --subject <id>');
  const kind = str(ctx.values, 'kind');
  if (kind !== undefined && kind !== 'access' && kind !== 'url') throw usage(`--kind must be access or url (got ${JSON.stringify(kind)})`);
  const all = ctx.values.all === true;
  const limitText = str(ctx.values, 'limit');
  if (all && limitText !== undefined) throw usage('give --limit or --all, not both');
  const limit = all ? Infinity : limitText === undefined ? 100 : positiveInt(limitText, 'limit');
  const expiredOnly = ctx.values.expired === true;
  const subject = str(ctx.values, 'subject');
  const parentId = str(ctx.values, 'parent');
  const expiring = str(ctx.values, 'expiring');
  const within = expiring === undefined ? undefined : duration(expiring, 'expiring');
  let cursor = str(ctx.values, 'cursor');

  const tokens = await ctx.tokens();
  const now = ctx.now();
  const expiringBefore = within === undefined ? undefined : new Date(now + within);
  const items: TokenInfo[] = [];
  // the cursor to continue from is exact only at a page boundary the store gave
  let next: string | undefined;
  let more = false;
  for (;;) {
    const want = expiredOnly ? 1000 : Math.min(1000, limit - items.length);
    const page = await tokens.list({
      limit: want,
      ...(subject !== undefined ? { subject } : {}),
      ...(kind !== undefined ? { kind: kind as 'access' | 'url' } : {}),
      ...(parentId !== undefined ? { parentId } : {}),
      ...(expiringBefore !== undefined ? { expiringBefore } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    const matching = expiredOnly ? page.items.filter((t) => isExpired(t, now)) : page.items;
    const room = limit - items.length;
    items.push(...matching.slice(0, room));
    if (matching.length > room) {
      more = true;
      next = undefined;
      break;
    }
    next = page.cursor;
    if (!page.cursor) break;
    if (items.length >= limit) {
      more = true;
      break;
    }
    cursor = page.cursor;
  }

  if (ctx.json) {
    ctx.emitJson({ items: items.map((t) => tokenJson(t, now)), count: items.length, ...(more ? { more: true } : {}), ...(more && next ? { cursor: next } : {}) });
    return 0;
  }
  const what = [expiredOnly ? 'expired ' : '', kind === 'url' ? 'share link' : kind === 'access' ? 'API token' : 'token'].join('');
  if (items.length === 0) {
    const filters = [
      subject !== undefined ? ` for subject ${subject}` : '',
      parentId !== undefined ? ` derived from ${parentId}` : '',
      expiring !== undefined ? ` expiring within ${expiring}` : '',
    ].join('');
    ctx.note(`no ${what}s${filters}`);
    return 0;
  }
  const { headers, rows } = tokenRows(items, now, ctx.out);
  ctx.io.stdout.write(table(headers, rows, ctx.out));
  ctx.note(ctx.err.dim(`${plural(items.length, what)}${more ? ` shown; more exist (--limit <n> or --all)` : ''}`));
  return 0;
}
