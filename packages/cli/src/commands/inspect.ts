import type { TokenInfo } from '@tokenaccess/core';
import type { Context } from '../context';
import { classify, notFound } from '../context';
import { usage } from '../errors';
import { details, tokenJson } from '../format';

/** Finds a record by id or raw token, without verifying (a verify would spend a use). */
export async function findToken(ctx: Context, arg: string): Promise<{ info: TokenInfo | null; label: string }> {
  const c = classify(arg, ctx.prefix);
  const tokens = await ctx.tokens();
  if (c.kind === 'id') return { info: await tokens.get(c.id), label: `with id ${c.id}` };
  const info = await tokens.inspect(c.raw); // every pepper key, no use spent
  if (info) return { info, label: `matching ${c.hint}` };
  return {
    info: null,
    label: `matching ${c.hint}${ctx.pepper === undefined ? ' (if your deployment uses a pepper, pass --pepper or TOKENACCESS_PEPPER)' : ''}`,
  };
}

/** `tokenaccess inspect <id | token>`. */
export async function inspect(ctx: Context): Promise<number> {
  if (ctx.args.length !== 1) throw usage('inspect takes one id or token: tokenaccess inspect <id | token>');
  const { info, label } = await findToken(ctx, ctx.args[0]!);
  if (!info) throw notFound(label);
  if (ctx.json) ctx.emitJson(tokenJson(info, ctx.now()));
  else ctx.io.stdout.write(details(info, ctx.now(), ctx.out));
  return 0;
}
