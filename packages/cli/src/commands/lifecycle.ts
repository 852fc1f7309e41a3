import { type JsonValue, type TokenInfo, type UpdateOptions, TokenAccessError } from '@tokenaccess/core';
import type { Context } from '../context';
import { classify, duration, expiry, idleOf, maxUses, metadata, notFound, rateLimitOf, refillOf, scopes, str } from '../context';
import { usage } from '../errors';
import { relative, tokenJson } from '../format';
import { summary } from './issue';

// update, disable, enable, rotate and derive: each names a token by id or raw token (as inspect
// and revoke do), and an unknown one is `no token with id …` with exit 1.

/** The id an `<id | token>` argument names (a raw token is looked up by hash, no use spent). */
async function idOf(ctx: Context, arg: string): Promise<string> {
  const c = classify(arg, ctx.prefix);
  if (c.kind === 'id') return c.id;
  const info = await (await ctx.tokens()).inspect(c.raw);
  if (!info) throw notFound(`matching ${c.hint}`);
  return info.id;
}

/** Core's `not_found` in the words of the other commands. */
async function named<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TokenAccessError && err.code === 'not_found') throw notFound(`with id ${id}`);
    throw err;
  }
}

function one(ctx: Context, command: string, what = 'id | token'): string {
  if (ctx.args.length !== 1) throw usage(`${command} takes one ${what}: tokenaccess ${command} <${what}>`);
  return ctx.args[0]!;
}

/** `--metadata '{"team":"ops"}'` replaces the metadata; `null` removes it. */
function metadataPatch(ctx: Context): { metadata?: Record<string, JsonValue> | null } {
  const v = str(ctx.values, 'metadata');
  if (v === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw usage(`--metadata must be a JSON object or null (got ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`, `e.g. --metadata '{"team":"ops"}'`);
  }
  if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw usage('--metadata must be a JSON object or null');
  return { metadata: parsed as Record<string, JsonValue> | null };
}

/** `tokenaccess update <id | token>`: only what is given changes. */
export async function update(ctx: Context): Promise<number> {
  const arg = one(ctx, 'update');
  const name = str(ctx.values, 'name');
  const s = scopes(ctx.values);
  const patch: UpdateOptions = {
    ...(name !== undefined ? { name } : {}),
    ...(s !== undefined ? { scopes: s } : {}),
    ...expiry(ctx.values),
    ...idleOf(ctx.values, true),
    ...maxUses(ctx.values),
    ...refillOf(ctx.values, true),
    ...rateLimitOf(ctx.values, true),
    ...metadataPatch(ctx),
  };
  if (Object.keys(patch).length === 0) throw usage('update what? give --name, --scope, --expires, --expires-at, --idle, --max-uses, --refill, --rate-limit or --metadata');
  const id = await idOf(ctx, arg);
  const tokens = await ctx.tokens();
  const info = await named(id, () => tokens.update(id, patch));
  if (ctx.json) ctx.emitJson(tokenJson(info, ctx.now()));
  else ctx.print(`updated ${info.id} ("${info.name}"): ${summary(ctx, info)}`);
  return 0;
}

/** `tokenaccess disable <id | token>...` / `enable`. */
function toggle(command: 'disable' | 'enable') {
  return async (ctx: Context): Promise<number> => {
    if (ctx.args.length === 0) throw usage(`${command} what? tokenaccess ${command} <id | token>...`);
    const ids: string[] = [];
    for (const a of ctx.args) ids.push(await idOf(ctx, a));
    const tokens = await ctx.tokens();
    const done: TokenInfo[] = [];
    for (const id of ids) done.push(await named(id, () => tokens[command](id)));
    const now = ctx.now();
    if (ctx.json) ctx.emitJson({ [command === 'disable' ? 'disabled' : 'enabled']: done.map((t) => tokenJson(t, now)), count: done.length });
    else for (const t of done) ctx.print(`${command}d ${t.id} (${t.kind}${t.subject !== undefined ? `, subject ${t.subject}` : ''}, "${t.name}")`);
    return 0;
  };
}

export const disable = toggle('disable');
export const enable = toggle('enable');

/** `tokenaccess rotate <id | token> [--grace 1h]`: the new token (or link) alone on stdout. */
export async function rotate(ctx: Context): Promise<number> {
  const arg = one(ctx, 'rotate');
  const g = str(ctx.values, 'grace');
  const grace = g === undefined ? 0 : g === '0' ? 0 : duration(g, 'grace');
  const urlParam = str(ctx.values, 'url-param');
  const id = await idOf(ctx, arg);
  const tokens = await ctx.tokens(urlParam !== undefined ? { urlParam } : {});
  const out = await named(id, () => tokens.rotate(id, { grace }));
  const now = ctx.now();
  if (ctx.json) {
    ctx.emitJson({ token: out.token, ...(out.url !== undefined ? { url: out.url } : {}), info: tokenJson(out.info, now), previous: tokenJson(out.previous, now) });
    return 0;
  }
  const until = out.previous.expiresAt;
  ctx.note(
    `${ctx.err.green('✓')} rotated ${ctx.err.bold(out.previous.id)} → ${ctx.err.bold(out.info.id)} ("${out.info.name}"): ` +
      (grace > 0 && until ? `the old ${out.info.kind === 'url' ? 'link' : 'token'} works until ${until.toISOString()} (${relative(until, now)})` : `the old ${out.info.kind === 'url' ? 'link' : 'token'} is refused from now on`),
  );
  ctx.print(out.url ?? out.token);
  ctx.note(ctx.err.yellow(`  this is the only time the new ${out.url !== undefined ? 'link' : 'token'} is shown: ${out.url !== undefined ? 'send' : 'store'} it now`));
  return 0;
}

/** `tokenaccess derive <parent>`: the child's raw token alone on stdout. */
export async function derive(ctx: Context): Promise<number> {
  const arg = one(ctx, 'derive', 'parent id | token');
  const name = str(ctx.values, 'name');
  const s = scopes(ctx.values);
  const { idleTimeout } = idleOf(ctx.values);
  const input = {
    ...(name !== undefined ? { name } : {}),
    ...(s !== undefined ? { scopes: s } : {}),
    ...expiry(ctx.values),
    ...(idleTimeout != null ? { idleTimeout } : {}),
    ...maxUses(ctx.values),
    ...rateLimitOf(ctx.values, true),
    ...metadata(ctx.values),
  };
  const parentId = await idOf(ctx, arg);
  const tokens = await ctx.tokens();
  const out = await named(parentId, () => tokens.derive(parentId, input));
  if (ctx.json) {
    ctx.emitJson({ token: out.token, info: tokenJson(out.info, ctx.now()) });
    return 0;
  }
  ctx.note(`${ctx.err.green('✓')} derived ${ctx.err.bold(out.info.id)} from ${parentId} ("${out.info.name}"): ${summary(ctx, out.info)}`);
  ctx.print(out.token);
  ctx.note(ctx.err.yellow('  this is the only time the token is shown: store it now'));
  return 0;
}
