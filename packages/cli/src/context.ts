import { type Invalidation, type Pepper, type TokenAccess, createTokenAccess, isWellFormed, memoryStore, parseDuration, rateLimitBounds } from '@tokenaccess/core';
import { CliError, EXIT, usage } from './errors';
import type { CliIO, Style } from './io';
import { type Progress, createProgress } from './progress';
import { type OpenedStore, openStore } from './stores';
import { errText } from './stores/shared';

export type Values = Record<string, string | boolean | string[] | undefined>;

/** What a command runs with: parsed arguments, output helpers and the store, opened on demand. */
export interface Context {
  io: CliIO;
  values: Values;
  /** Arguments after the command name. */
  args: string[];
  json: boolean;
  /** Styles for stdout and stderr (each follows its own stream's TTY-ness). */
  out: Style;
  err: Style;
  prefix: string;
  pepper: Pepper | undefined;
  /** `--connect-timeout` and `--timeout`, ms (for connections a command opens itself: import's source). */
  connectTimeout: number;
  timeout: number;
  /** Writes to stdout (a newline is added). */
  print(text: string): void;
  /** Writes a message to stderr (a newline is added). */
  note(text: string): void;
  /** Writes the one JSON object of `--json` to stdout. */
  emitJson(value: unknown): void;
  /** The token service on the selected store (opened on first call). */
  tokens(opts?: { urlParam?: string }): Promise<TokenAccess>;
  /** The opened store (opened on first call). */
  store(): Promise<OpenedStore>;
  progress(label: string, total?: number): Progress;
  now(): number;
  /** Closes whatever was opened. */
  close(): Promise<void>;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** `30m`, `12h`, `90d`, `2w`, `500ms` → ms; a usage error otherwise. */
export function duration(value: string, option: string): number {
  if (/^\d+$/.test(value)) throw usage(`--${option} needs a unit: ${value}s, ${value}m, ${value}h or ${value}d (got ${JSON.stringify(value)})`);
  try {
    return parseDuration(value as `${number}s`, `--${option}`);
  } catch {
    throw usage(`--${option} must be a duration like 30m, 12h, 90d or 2w (got ${JSON.stringify(value)})`);
  }
}

/** `--expires 90d|never` and `--expires-at <date>`, as core's `expiresIn` / `expiresAt`. */
export function expiry(values: Values): { expiresIn?: number | null; expiresAt?: Date } {
  const rel = str(values, 'expires');
  const abs = str(values, 'expires-at');
  if (rel !== undefined && abs !== undefined) throw usage('give --expires or --expires-at, not both');
  if (abs !== undefined) {
    const d = new Date(abs);
    if (Number.isNaN(d.getTime())) throw usage(`--expires-at must be an ISO 8601 date like 2026-12-31 or 2026-12-31T23:59:00Z (got ${JSON.stringify(abs)})`);
    return { expiresAt: d };
  }
  if (rel === undefined) return {};
  if (rel === 'never' || rel === 'none') return { expiresIn: null };
  return { expiresIn: duration(rel, 'expires') };
}

/** `--max-uses 5|unlimited`. */
export function maxUses(values: Values): { maxUses?: number | null } {
  const v = str(values, 'max-uses');
  if (v === undefined) return {};
  if (v === 'unlimited' || v === 'none') return { maxUses: null };
  return { maxUses: positiveInt(v, 'max-uses') };
}

export function positiveInt(v: string, option: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw usage(`--${option} must be a positive integer (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** Repeated and comma/space-separated `--scope` (or `--scopes`); undefined when none is given (core then gives `*`). */
export function scopes(values: Values): string[] | undefined {
  const given = [...list(values, 'scope'), ...list(values, 'scopes')];
  const all = given.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== '');
  return all.length > 0 ? all : given.length > 0 ? [] : undefined;
}

/** `--refill 1h` (`none` / `never` too, where `allowNone`: `update` stops a refill with it). */
export function refillOf(values: Values, allowNone = false): { refill?: { every: number } | null } {
  const v = str(values, 'refill');
  if (v === undefined) return {};
  if (v === 'none' || v === 'never') {
    if (!allowNone) throw usage(`--refill ${v} applies to update (a new token has no refill unless given one)`);
    return { refill: null };
  }
  return { refill: { every: duration(v, 'refill') } };
}

/**
 * `--rate-limit 100/1m`: at most 100 verifications per minute (`100/h` is `100/1h`); `none` /
 * `never` too, where `allowNone` (`update` removes the limit with it, `derive` gives the child
 * none). Checked here, against core's bounds, so a bad value is one line naming the option.
 *
 * @example
 * ```ts
 * rateLimitOf({ 'rate-limit': '100/1m' }); // { rateLimit: { limit: 100, window: 60000 } }
 * ```
 */
export function rateLimitOf(values: Values, allowNone = false): { rateLimit?: { limit: number; window: number } | null } {
  const v = str(values, 'rate-limit');
  if (v === undefined) return {};
  if (v === 'none' || v === 'never') {
    if (!allowNone) throw usage(`--rate-limit ${v} applies to update and derive (a new token has no rate limit unless given one)`);
    return { rateLimit: null };
  }
  const m = /^\s*([^/\s]*)\s*\/\s*([^/\s]*)\s*$/.exec(v);
  if (!m) throw usage(`--rate-limit must be <limit>/<window>, like 100/1m or 5000/1h (got ${JSON.stringify(v)})`);
  const [, limitText, windowText] = m as unknown as [string, string, string];
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || !rateLimitBounds.limitOk(limit)) {
    throw usage(`--rate-limit: the limit must be a whole number from 1 to 1000000000 (got ${JSON.stringify(v)})`, 'e.g. --rate-limit 100/1m');
  }
  // `100/h` reads as "100 an hour"
  const unitOnly = /^(s|m|h|d|w)$/.test(windowText);
  let window: number;
  try {
    if (/^\d+$/.test(windowText)) throw new Error('no unit');
    window = parseDuration((unitOnly ? `1${windowText}` : windowText) as `${number}s`, '--rate-limit');
  } catch {
    throw usage(`--rate-limit: the window must be a duration like 1s, 1m, 1h or 1d (got ${JSON.stringify(v)})`, 'e.g. --rate-limit 100/1m');
  }
  if (!rateLimitBounds.windowOk(window)) {
    throw usage(`--rate-limit: the window must be whole seconds from 1s to 366d (got ${JSON.stringify(v)})`);
  }
  return { rateLimit: { limit, window } };
}

/** `--idle 30m` (`none` too, where `allowNone`: `update` removes the idle timeout with it). */
export function idleOf(values: Values, allowNone = false): { idleTimeout?: number | null } {
  const v = str(values, 'idle');
  if (v === undefined) return {};
  if (allowNone && (v === 'none' || v === 'never')) return { idleTimeout: null };
  return { idleTimeout: duration(v, 'idle') };
}

/** `--meta key=value` (value parsed as JSON when it is JSON, so `--meta n=3` stores a number). */
export function metadata(values: Values): { metadata?: Record<string, import('@tokenaccess/core').JsonValue> } {
  const items = list(values, 'meta');
  if (items.length === 0) return {};
  const out: Record<string, import('@tokenaccess/core').JsonValue> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usage(`--meta must be key=value (got ${JSON.stringify(item)})`);
    const value = item.slice(eq + 1);
    let parsed: import('@tokenaccess/core').JsonValue = value;
    try {
      parsed = JSON.parse(value) as import('@tokenaccess/core').JsonValue;
    } catch {
      // a plain string
    }
    out[item.slice(0, eq)] = parsed;
  }
  return { metadata: out };
}

/** What an `<id | token>` argument is. A raw token is never echoed back: only its hint. */
export function classify(arg: string, prefix: string): { kind: 'token'; raw: string; hint: string } | { kind: 'id'; id: string } {
  if (isWellFormed(arg, prefix)) return { kind: 'token', raw: arg, hint: `${arg.slice(0, prefix.length + 5)}…` };
  if (arg.includes('_')) {
    const p = arg.slice(0, arg.indexOf('_'));
    throw usage(
      p === prefix ? `${p}_… is not a well-formed token (wrong length or checksum)` : `${p}_… is not a token with prefix ${prefix}`,
      p === prefix ? undefined : `pass --prefix ${/^[a-z][a-z0-9]{0,15}$/.test(p) ? p : '<prefix>'} if your tokens use another prefix`,
    );
  }
  return { kind: 'id', id: arg };
}

/** What `createContext` needs: the context's plain fields, and how to reach the store. */
export interface ContextSettings extends Pick<Context, 'io' | 'values' | 'args' | 'json' | 'out' | 'err' | 'prefix' | 'pepper' | 'connectTimeout' | 'timeout'> {
  storeUrl: string | undefined;
}

/**
 * The store's feed as the CLI uses it: it publishes and never subscribes (a cache of size 0 has
 * nothing to drop, so listening would only hold a connection open), and a publish that hangs is
 * given up after `timeout`, like any store call.
 */
function publishOnly(feed: Invalidation, timeout: number): Invalidation {
  return {
    publish(keys) {
      const sent = feed.publish(keys);
      if (!(timeout > 0)) return sent;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
      });
      sent.catch(() => {});
      return Promise.race([sent, late]).finally(() => clearTimeout(timer));
    },
    subscribe: () => () => {},
  };
}

export function createContext(s: ContextSettings): Context {
  let opened: Promise<OpenedStore> | undefined;
  const note = (text: string) => void s.io.stderr.write(`${text}\n`);
  let warned = false;
  /** A change was saved but the feed refused it: said once, the exit code stays (the change stands). */
  const unpublished = (err: unknown) => {
    if (warned) return;
    warned = true;
    note(s.err.yellow(`tokenaccess: warning: the change is saved, but running services could not be told (${errText(err)}): their verify caches drop the old record within their cache ttl`));
  };
  const publish = s.values['no-publish'] !== true;
  const channel = str(s.values, 'channel');
  // Options are checked once without any store, so a bad pepper or prefix never waits on a connection.
  createTokenAccess({ store: memoryStore(), prefix: s.prefix, ...(s.pepper !== undefined ? { pepper: s.pepper } : {}) });
  const ctx: Context = {
    io: s.io,
    values: s.values,
    args: s.args,
    json: s.json,
    out: s.out,
    err: s.err,
    prefix: s.prefix,
    pepper: s.pepper,
    connectTimeout: s.connectTimeout,
    timeout: s.timeout,
    print: (text) => void s.io.stdout.write(`${text}\n`),
    note,
    emitJson: (value) => void s.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    store() {
      opened ??= openStore({
        url: s.storeUrl,
        cwd: s.io.cwd,
        schema: str(s.values, 'schema'),
        table: str(s.values, 'table'),
        keyPrefix: str(s.values, 'key-prefix'),
        collection: str(s.values, 'collection'),
        connectTimeout: s.connectTimeout,
        timeout: s.timeout,
        notice: (m) => note(s.err.dim(`tokenaccess: ${m}`)),
        publish,
        ...(channel !== undefined ? { channel } : {}),
      }).then((o) => {
        if (channel !== undefined && publish && !o.invalidation) {
          note(s.err.dim(`tokenaccess: --channel applies to Redis and PostgreSQL stores (services on ${o.backend === 'mongodb' ? 'MongoDB see every write through its change stream' : `${o.backend} have no change feed to reach`}); ignored`));
        }
        return o;
      });
      return opened;
    },
    async tokens(opts = {}) {
      const { store, invalidation } = await ctx.store();
      return createTokenAccess({
        store,
        prefix: s.prefix,
        ...(s.pepper !== undefined ? { pepper: s.pepper } : {}),
        ...(opts.urlParam !== undefined ? { urlParam: opts.urlParam } : {}),
        timeout: s.timeout > 0 ? s.timeout : 60_000,
        // every change is published to the services' verify caches (revoke, update, disable,
        // rotate…); this process caches nothing itself
        ...(invalidation ? { cache: { max: 0, negativeTtl: 0, invalidation: publishOnly(invalidation, s.timeout) } } : {}),
        // a CLI must never print a hook failure mid-output; there are no hooks, only the feed
        onHookError: (err, hook) => {
          if (hook === 'invalidation') unpublished(err);
        },
      });
    },
    progress: (label, total) => createProgress(s.io.stderr, { label, ...(total !== undefined ? { total } : {}) }),
    now: () => Date.now(),
    async close() {
      if (!opened) return;
      const o = await opened.catch(() => undefined);
      await o?.close();
    },
  };
  return ctx;
}

/** Raised when a named token does not exist (exit 1). */
export function notFound(what: string): CliError {
  return new CliError(`no token ${what}`, EXIT.failure);
}
