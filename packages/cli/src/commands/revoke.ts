import type { TokenInfo } from '@tokenaccess/core';
import type { Context } from '../context';
import { classify, notFound, str } from '../context';
import { CliError, EXIT, usage } from '../errors';
import { isExpired, plural, tokenJson } from '../format';

/** Deletes this many tokens at once in a bulk revoke. */
const CONCURRENCY = 16;

/** `tokenaccess revoke <id | token>...`, `--subject S`, `--all-expired`. */
export async function revoke(ctx: Context): Promise<number> {
  const subject = str(ctx.values, 'subject');
  const allExpired = ctx.values['all-expired'] === true;
  const dryRun = ctx.values['dry-run'] === true;
  if (ctx.args.length > 0 && (subject !== undefined || allExpired)) throw usage('give ids/tokens, or --subject / --all-expired, not both');
  if (ctx.args.length === 0 && subject === undefined && !allExpired) {
    throw usage('revoke what? tokenaccess revoke <id | token>... | --subject <id> | --all-expired');
  }
  if (ctx.args.length > 0) {
    if (dryRun) throw usage('--dry-run applies to --subject and --all-expired');
    return revokeEach(ctx);
  }
  return revokeBulk(ctx, subject, allExpired, dryRun);
}

async function revokeEach(ctx: Context): Promise<number> {
  // every argument is checked before anything is deleted
  const targets = ctx.args.map((a) => classify(a, ctx.prefix));
  const tokens = await ctx.tokens();
  const revoked: TokenInfo[] = [];
  const missing: string[] = [];
  for (const t of targets) {
    const found = t.kind === 'id' ? await tokens.revokeById(t.id) : await tokens.revoke(t.raw);
    if (found) revoked.push(found);
    else missing.push(t.kind === 'id' ? `with id ${t.id}` : `matching ${t.hint}`);
  }
  const now = ctx.now();
  if (ctx.json) ctx.emitJson({ revoked: revoked.map((r) => tokenJson(r, now)), count: revoked.length, ...(missing.length ? { notFound: missing } : {}) });
  else for (const r of revoked) ctx.print(`revoked ${r.id} (${r.kind}${r.subject !== undefined ? `, subject ${r.subject}` : ''}, "${r.name}")`);
  if (missing.length === 1 && revoked.length === 0) throw notFound(missing[0]!);
  if (missing.length > 0) throw new CliError(`no token ${missing.join(', no token ')}`, EXIT.failure);
  return 0;
}

async function revokeBulk(ctx: Context, subject: string | undefined, allExpired: boolean, dryRun: boolean): Promise<number> {
  const tokens = await ctx.tokens();
  const now = ctx.now();
  const what = allExpired ? `expired tokens${subject !== undefined ? ` of subject ${subject}` : ''}` : `tokens of subject ${subject}`;

  // 1. find them (the store lists in id order, 1000 per call)
  const scan = ctx.progress('scanning');
  const ids: string[] = [];
  let scanned = 0;
  let cursor: string | undefined;
  do {
    const page = await tokens.list({ limit: 1000, ...(subject !== undefined ? { subject } : {}), ...(cursor ? { cursor } : {}) });
    for (const t of page.items) if (!allExpired || isExpired(t, now)) ids.push(t.id);
    scanned += page.items.length;
    scan.update(scanned);
    cursor = page.cursor;
  } while (cursor);
  if (scan.active && scanned > 0) scan.done();

  if (dryRun) {
    if (ctx.json) ctx.emitJson({ dryRun: true, count: ids.length, ids });
    else ctx.print(`would revoke ${plural(ids.length, 'token')} (${what}); nothing was revoked`);
    return 0;
  }

  // 2. delete them, a few at a time, with a bar
  const bar = ctx.progress('revoking', ids.length);
  let done = 0;
  let deleted = 0;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      if (await tokens.revokeById(id)) deleted++;
      bar.update(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  if (ids.length > 0) bar.done();
  // 3. a subject's tokens issued while this ran go too: revokeAll is the store's own bulk delete
  if (subject !== undefined && !allExpired) deleted += await tokens.revokeAll(subject);

  if (ctx.json) ctx.emitJson({ count: deleted, ...(subject !== undefined ? { subject } : {}), ...(allExpired ? { expired: true } : {}) });
  else ctx.print(`revoked ${plural(deleted, 'token')} (${what})`);
  return 0;
}
