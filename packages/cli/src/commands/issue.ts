import type { Context } from '../context';
import { expiry, idleOf, list, maxUses, metadata, rateLimitOf, refillOf, scopes, str } from '../context';
import { usage } from '../errors';
import { formatDuration, relative, tokenJson } from '../format';
import type { TokenInfo } from '@tokenaccess/core';

export function summary(ctx: Context, t: TokenInfo): string {
  const now = ctx.now();
  const parts = [
    `scopes ${t.scopes.join(' ') || '(none)'}`,
    t.expiresAt ? `expires ${relative(t.expiresAt, now)} (${t.expiresAt.toISOString()})` : 'never expires',
  ];
  if (t.idleTimeout !== undefined) parts.push(`idle timeout ${formatDuration(t.idleTimeout)}`);
  parts.push(t.maxUses === undefined ? 'unlimited uses' : `${t.maxUses} use${t.maxUses === 1 ? '' : 's'}${t.refill ? ` every ${formatDuration(t.refill.every)}` : ''}`);
  if (t.rateLimit) parts.push(`rate limit ${t.rateLimit.limit} per ${formatDuration(t.rateLimit.window)}`);
  return parts.join(', ');
}

/** `tokenaccess issue <subject>`: the raw token alone on stdout, everything else on stderr. */
export async function issue(ctx: Context): Promise<number> {
  const [positional, ...extra] = ctx.args;
  if (extra.length > 0) throw usage(`issue takes one subject (got ${ctx.args.length} arguments)`, 'quote a name with spaces: --name "CI deploy"');
  const flag = str(ctx.values, 'subject');
  if (positional !== undefined && flag !== undefined && positional !== flag) throw usage('give the subject once: as an argument or as --subject');
  const subject = positional ?? flag;
  if (subject === undefined) throw usage('issue needs a subject: tokenaccess issue <subject>', 'the subject is the owner of the token, e.g. a user id');
  const input = {
    subject,
    name: str(ctx.values, 'name') ?? 'cli',
    ...optionalScopes(ctx),
    ...expiry(ctx.values),
    ...idle(ctx),
    ...maxUses(ctx.values),
    ...refill(ctx),
    ...rate(ctx),
    ...metadata(ctx.values),
  };
  const tokens = await ctx.tokens();
  const { token, info } = await tokens.issue(input);
  if (ctx.json) {
    ctx.emitJson({ token, info: tokenJson(info, ctx.now()) });
    return 0;
  }
  ctx.note(`${ctx.err.green('✓')} issued ${ctx.err.bold(info.id)} to ${info.subject} ("${info.name}"): ${summary(ctx, info)}`);
  ctx.print(token);
  ctx.note(ctx.err.yellow('  this is the only time the token is shown: store it now'));
  return 0;
}

/** `tokenaccess share <url>`: the share link alone on stdout. */
export async function share(ctx: Context): Promise<number> {
  const [url, ...extra] = ctx.args;
  if (url === undefined) throw usage('share needs a URL: tokenaccess share <url>', "quote it in the shell: 'https://example.com/files?id=7'");
  if (extra.length > 0) throw usage(`share takes one URL (got ${ctx.args.length} arguments)`, 'quote a URL with & in it');
  const methods = list(ctx.values, 'method').flatMap((m) => m.split(/[\s,]+/)).filter(Boolean);
  const subject = str(ctx.values, 'subject');
  const name = str(ctx.values, 'name');
  const input = {
    url,
    ...optionalScopes(ctx),
    ...expiry(ctx.values),
    ...idle(ctx),
    ...maxUses(ctx.values),
    ...refill(ctx),
    ...rate(ctx),
    ...(methods.length > 0 ? { methods } : {}),
    ...(subject !== undefined ? { subject } : {}),
    ...(name !== undefined ? { name } : {}),
    ...metadata(ctx.values),
  };
  const urlParam = str(ctx.values, 'url-param');
  const tokens = await ctx.tokens(urlParam !== undefined ? { urlParam } : {});
  const out = await tokens.issueUrl(input);
  if (ctx.json) {
    ctx.emitJson({ token: out.token, url: out.url, info: tokenJson(out.info, ctx.now()) });
    return 0;
  }
  ctx.note(
    `${ctx.err.green('✓')} shared ${ctx.err.bold(out.info.id)} for ${out.info.url?.methods.join('/')} ${out.info.url?.url}: ${summary(ctx, out.info)}`,
  );
  ctx.print(out.url);
  ctx.note(ctx.err.yellow('  this is the only time the link is shown: send it now'));
  return 0;
}

function optionalScopes(ctx: Context): { scopes?: string[] } {
  const s = scopes(ctx.values);
  return s === undefined ? {} : { scopes: s };
}

function idle(ctx: Context): { idleTimeout?: number } {
  const { idleTimeout } = idleOf(ctx.values);
  return idleTimeout == null ? {} : { idleTimeout };
}

function refill(ctx: Context): { refill?: { every: number } } {
  const { refill: r } = refillOf(ctx.values);
  return r ? { refill: r } : {};
}

function rate(ctx: Context): { rateLimit?: { limit: number; window: number } } {
  const { rateLimit } = rateLimitOf(ctx.values);
  return rateLimit ? { rateLimit } : {};
}
