import type { Context } from '../context';
import { positiveInt, str } from '../context';
import { usage } from '../errors';
import { plural } from '../format';

/** `tokenaccess sweep`: the store's own batched delete of expired and used-up tokens. */
export async function sweep(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw usage(`sweep takes no arguments (got ${JSON.stringify(ctx.args[0])})`);
  const b = str(ctx.values, 'batch-size');
  const batchSize = b === undefined ? 1000 : positiveInt(b, 'batch-size');
  const opened = await ctx.store();
  const tokens = await ctx.tokens();
  let total: number | undefined;
  // the total is only for the bar: worth one count query on a terminal, never an error
  if (ctx.io.stderr.isTTY && opened.countDead) total = await opened.countDead(new Date(ctx.now())).catch(() => undefined);
  const bar = ctx.progress('sweeping', total);
  let seen = 0;
  const deleted = await tokens.sweep({
    batchSize,
    onProgress: (n) => {
      seen = n;
      bar.update(n, total !== undefined && n > total ? n : undefined);
    },
  });
  if (seen !== deleted) bar.update(deleted);
  if (deleted > 0) bar.done();
  if (ctx.json) ctx.emitJson({ deleted });
  else ctx.print(`swept ${plural(deleted, 'token')} (expired or used up) from ${opened.label}`);
  return 0;
}
