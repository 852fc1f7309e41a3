import { createHash } from 'node:crypto';
import { type TokenInfo, type TokenStore, TokenAccessError } from '@tokenaccess/core';
import type { Context } from '../context';
import { duration, list, positiveInt, str } from '../context';
import { CliError, EXIT, plain, usage } from '../errors';
import { count, plural } from '../format';
import { FRAMEWORKS, type Framework } from '../import/frameworks';
import { type MapContext, mapRow, parseOffset } from '../import/kit';
import { type SourceDb, openSource } from '../import/source';
import { errText } from '../stores/shared';

/**
 * Inserts in flight at once (each one whole: a record is in the store or not). No more than the
 * CLI's Postgres pool holds (4), so no insert waits for a connection.
 */
const CONCURRENCY = 4;

/** What an import did: the summary, and what `--json` prints. */
interface Tally {
  imported: number;
  alreadyPresent: number;
  skipped: Map<string, number>;
  refused: { id: string; reason: string }[];
}

/** `tokenaccess import <sanctum | shield | tiki> --from <url>`. */
export async function importCommand(ctx: Context): Promise<number> {
  const [which, ...extra] = ctx.args;
  if (which === undefined) throw usage('import what? tokenaccess import <sanctum | shield | tiki> --from <url>');
  if (!Object.hasOwn(FRAMEWORKS, which)) throw usage(`cannot import ${JSON.stringify(which)}: choose sanctum, shield or tiki`);
  if (extra.length > 0) throw usage(`import takes one framework (got ${ctx.args.length} arguments)`, 'quote a URL with & in it');
  const framework = FRAMEWORKS[which as Framework['name']];
  const from = str(ctx.values, 'from');
  if (from === undefined) throw usage(`import ${which} needs --from <url>: the database that holds ${framework.table}`, 'e.g. --from mysql://user:pass@127.0.0.1:3306/app');
  const settings = mapSettings(ctx, framework);
  const b = str(ctx.values, 'batch-size');
  const batch = b === undefined ? 500 : Math.min(positiveInt(b, 'batch-size'), 10_000);
  const dryRun = ctx.values['dry-run'] === true;

  const source = await openSource(from, { connectTimeout: ctx.connectTimeout, timeout: ctx.timeout });
  try {
    const plan = await planRead(source, framework, str(ctx.values, 'source-table'));
    const { store, label } = await ctx.store();
    const tally: Tally = { imported: 0, alreadyPresent: 0, skipped: new Map(), refused: [] };
    for (const [type, n] of plan.others) tally.skipped.set(`not an access token (type ${type})`, n);
    const bar = ctx.progress(dryRun ? 'checking' : 'importing', plan.total);
    let seen = 0;
    try {
      await readAll(source, plan, batch, async (rows) => {
        const work: { sourceId: string; record: TokenInfo }[] = [];
        for (const row of rows) {
          const sourceId = String(row[plan.keyAlias]);
          const mapped = mapRow(row, settings, framework.map);
          if ('record' in mapped) work.push({ sourceId, record: mapped.record });
          else if ('skip' in mapped) tally.skipped.set(mapped.skip, (tally.skipped.get(mapped.skip) ?? 0) + 1);
          else tally.refused.push({ id: sourceId, reason: mapped.refuse });
        }
        await writeAll(store, work, dryRun, tally);
        seen += rows.length;
        bar.update(seen);
      });
    } catch (err) {
      if (bar.active && seen > 0) bar.done();
      throw stopped(err, tally, framework, dryRun);
    }
    if (bar.active && seen > 0) bar.done();
    report(ctx, framework, tally, { dryRun, source: `${source.label} (${plan.table})`, store: label });
    return 0;
  } finally {
    await source.close();
  }
}

/** The options that shape records, checked before anything is opened. */
function mapSettings(ctx: Context, framework: Framework): MapContext {
  const tz = str(ctx.values, 'timezone');
  const offsetMs = tz === undefined ? 0 : parseOffset(tz);
  if (offsetMs === undefined) throw usage(`--timezone must be UTC or an offset like +02:00 (got ${JSON.stringify(tz)})`);
  const after = str(ctx.values, 'expires-after');
  const idle = str(ctx.values, 'idle');
  const baseUrl = str(ctx.values, 'base-url');
  const methods = list(ctx.values, 'method').flatMap((m) => m.split(/[\s,]+/)).filter(Boolean).map((m) => m.toUpperCase());
  const urlParam = str(ctx.values, 'url-param') ?? 'TOKEN';
  if (framework.name !== 'tiki') {
    for (const o of ['base-url', 'method', 'url-param']) if (ctx.values[o] !== undefined) throw usage(`--${o} applies to tiki links only`);
  }
  if (baseUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(baseUrl);
    } catch {
      // reported below
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash) throw usage(`--base-url must be an http(s) URL without query, like https://wiki.example.com (got ${JSON.stringify(baseUrl)})`);
  }
  for (const m of methods) if (!/^[A-Z]{1,20}$/.test(m)) throw usage(`--method must be an HTTP method like GET or POST (got ${JSON.stringify(m)})`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(urlParam)) throw usage(`--url-param must be 1-64 characters of [A-Za-z0-9_.-] (got ${JSON.stringify(urlParam)})`);
  return {
    offsetMs,
    now: ctx.now(),
    ...(after !== undefined ? { expiresAfter: duration(after, 'expires-after') } : {}),
    ...(idle !== undefined ? { idleTimeout: duration(idle, 'idle') } : {}),
    sha256: (text) => createHash('sha256').update(text, 'utf8').digest('hex'),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    methods: methods.length > 0 ? [...new Set(methods)] : ['GET'],
    urlParam,
  };
}

interface ReadPlan {
  table: string;
  /** `SELECT … FROM … [WHERE …]` without the keyset condition. */
  select: string;
  where: string | undefined;
  whereParams: unknown[];
  keyColumn: string;
  keyAlias: string;
  total: number;
  /** Rows of the table that are not tokens, by type (Shield keeps passwords there too). */
  others: [string, number][];
}

/** Checks the table and its columns, counts the rows: a wrong table fails here, before any write. */
async function planRead(source: SourceDb, framework: Framework, tableOption: string | undefined): Promise<ReadPlan> {
  const table = tableOption ?? source.table ?? framework.table;
  const columns = await source.columns(table);
  if (columns.length === 0) throw new CliError(`there is no table ${table} in ${source.label}`, EXIT.failure, { hint: `name it with --source-table <name> if ${framework.name} uses another name` });
  const byLower = new Map(columns.map((c) => [c.toLowerCase(), c]));
  const missing = framework.required.filter((c) => !byLower.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new CliError(`${table} is not ${framework.name}'s ${framework.table} table: it has no column ${missing.join(', ')}`, EXIT.failure, { hint: 'check --from and --source-table' });
  }
  const col = (name: string) => source.quote(byLower.get(name.toLowerCase())!);
  const wanted = [...framework.required, ...framework.optional.filter((c) => byLower.has(c.toLowerCase()))];
  const fields = [...wanted.map((c) => `${col(c)} AS ${source.quote(c.toLowerCase())}`), ...Object.entries(framework.computed?.(source, col) ?? {}).map(([alias, sql]) => `${sql} AS ${source.quote(alias)}`)];
  const ref = source.tableRef(table);
  const where = framework.where?.sql(source, col);
  const whereParams = where === undefined ? [] : ['access_token'];
  const [{ n }] = (await source.query(`SELECT COUNT(*) AS n FROM ${ref}${where ? ` WHERE ${where}` : ''}`, whereParams)) as [{ n: unknown }];
  const others = framework.where ? (await source.query(framework.where.others(source, col, ref), whereParams)).map((r) => [String(r.type), Number(r.n)] as [string, number]) : [];
  return { table, select: `SELECT ${fields.join(', ')} FROM ${ref}`, where, whereParams, keyColumn: col(framework.key), keyAlias: framework.key.toLowerCase(), total: Number(n), others };
}

/** Reads the table in key order, `batch` rows a query, resuming after the last key (keyset paging). */
async function readAll(source: SourceDb, plan: ReadPlan, batch: number, page: (rows: Record<string, unknown>[]) => Promise<void>): Promise<void> {
  let after: unknown;
  for (;;) {
    const params = [...plan.whereParams];
    const conditions = plan.where ? [plan.where] : [];
    if (after !== undefined) {
      params.push(after);
      conditions.push(`${plan.keyColumn} > ${source.param(params.length)}`);
    }
    const sql = `${plan.select}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${plan.keyColumn} LIMIT ${batch}`;
    const rows = await source.query(sql, params);
    if (rows.length > 0) {
      await page(rows);
      after = rows[rows.length - 1]![plan.keyAlias];
    }
    if (rows.length < batch) return;
  }
}

/** Inserts a page's records a few at a time; a record already there (same hash) is counted, not an error. */
async function writeAll(store: TokenStore, work: { sourceId: string; record: TokenInfo }[], dryRun: boolean, tally: Tally): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < work.length && failure === undefined) {
      const { sourceId, record } = work[next++]!;
      try {
        if (dryRun) {
          if (await store.findByHash(record.hash)) tally.alreadyPresent++;
          else tally.imported++;
          continue;
        }
        await store.insert(record);
        tally.imported++;
      } catch (err) {
        if (err instanceof TokenAccessError && err.code === 'duplicate') tally.alreadyPresent++;
        else if (err instanceof TokenAccessError && err.code === 'invalid_argument') tally.refused.push({ id: sourceId, reason: plain(err.message) });
        else failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, work.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** A failure part-way: what is in stays in (each record whole), and the same command finishes the job. */
function stopped(err: unknown, tally: Tally, framework: Framework, dryRun: boolean): CliError {
  const done = dryRun ? '' : `; ${plural(tally.imported, 'token')} imported before it (each one whole), ${count(tally.alreadyPresent)} already present`;
  const cause = err instanceof TokenAccessError ? plain(err.message) : errText(err);
  return new CliError(`import ${framework.name} stopped: ${cause}${done}`, EXIT.failure, { cause: err, hint: 'run the same command again to finish: tokens already imported are recognised and skipped' });
}

function report(ctx: Context, framework: Framework, t: Tally, where: { dryRun: boolean; source: string; store: string }): void {
  const skipped = [...t.skipped.values()].reduce((a, b) => a + b, 0);
  if (ctx.json) {
    ctx.emitJson({
      from: framework.name,
      ...(where.dryRun ? { dryRun: true } : {}),
      imported: t.imported,
      alreadyPresent: t.alreadyPresent,
      skipped: { count: skipped, reasons: Object.fromEntries(t.skipped) },
      refused: { count: t.refused.length, rows: t.refused },
    });
    return;
  }
  const verb = where.dryRun ? 'would import' : 'imported';
  ctx.print(`${verb} ${plural(t.imported, `${framework.name} token`)} from ${where.source} into ${where.store}${where.dryRun ? ' (dry run: nothing was written)' : ''}`);
  const rows: [string, string][] = [
    [where.dryRun ? 'to import' : 'imported', count(t.imported)],
    ['already present', count(t.alreadyPresent)],
    ['skipped', `${count(skipped)}${skipped ? ` (${[...t.skipped].map(([r, n]) => `${r}: ${count(n)}`).join(', ')})` : ''}`],
    ['refused', count(t.refused.length)],
  ];
  for (const [k, v] of rows) ctx.print(`  ${k.padEnd(16)} ${v}`);
  for (const r of t.refused.slice(0, 50)) ctx.print(`    ${framework.key} ${r.id}: ${r.reason}`);
  if (t.refused.length > 50) ctx.print(`    … and ${count(t.refused.length - 50)} more (--json lists them all)`);
  if (t.refused.length > 0) ctx.note(ctx.err.yellow(`tokenaccess: ${plural(t.refused.length, 'row')} could not be imported: fix them in ${framework.table} and run the command again`));
}
