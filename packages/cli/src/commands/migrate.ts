import type { Context } from '../context';
import { usage } from '../errors';

/** `tokenaccess migrate`: tables (Postgres, PGlite) or indexes (MongoDB); nothing for Redis. */
export async function migrateCommand(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw usage(`migrate takes no arguments (got ${JSON.stringify(ctx.args[0])})`, 'name the store with --store <url>');
  const opened = await ctx.store();
  const message = await opened.migrate();
  if (ctx.json) ctx.emitJson({ backend: opened.backend, message });
  else ctx.print(message);
  return 0;
}
