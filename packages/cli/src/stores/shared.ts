import type { Invalidation, TokenStore } from '@tokenaccess/core';
import { CliError } from '../errors';

/** A store opened from a URL, with what the commands need around it. */
export interface OpenedStore {
  store: TokenStore;
  backend: 'pglite' | 'postgres' | 'redis' | 'mongodb' | 'memory';
  /** A description without credentials, e.g. `postgres://app@db:5432/prod (schema public, table tokenaccess_tokens)`. */
  label: string;
  /** Creates or upgrades what the store needs (tables, indexes); returns a one-line report. */
  migrate(): Promise<string>;
  /** How many tokens `sweep` would delete, when the backend can count them cheaply (for the bar). */
  countDead?(now: Date): Promise<number>;
  /**
   * The change feed the application's verify caches listen on (Redis pub/sub, PostgreSQL
   * NOTIFY), for the CLI to publish its changes to; absent where there is none to reach (PGlite,
   * memory), where every write already is the message (MongoDB's change stream), or with
   * `--no-publish`. Closed by {@link close}.
   */
  invalidation?: Invalidation;
  /** Closes every client, so the process can exit. Idempotent. */
  close(): Promise<void>;
}

/** Where and how to open the store. */
export interface StoreSettings {
  /** `--store` / `TOKENACCESS_STORE`; absent: the embedded store in `<cwd>/.tokenaccess/`. */
  url?: string;
  cwd: string;
  schema?: string;
  table?: string;
  keyPrefix?: string;
  collection?: string;
  /** Longest wait to connect, ms. */
  connectTimeout: number;
  /** Longest wait for one store call, ms. */
  timeout: number;
  /** Prints a message on stderr. */
  notice(message: string): void;
  /** Open the store's change feed to publish changes on (false: `--no-publish`). */
  publish: boolean;
  /** `--channel`: the feed's channel, when not the feed's default. */
  channel?: string;
}

/** The embedded store's directory, relative to the working directory. */
export const EMBEDDED_DIR = '.tokenaccess';

/** Splits `scheme://rest?query#frag` and takes the named parameters out of the query. */
export function takeParams(url: string, names: string[]): { url: string; params: Record<string, string> } {
  const hashAt = url.indexOf('#');
  const frag = hashAt >= 0 ? url.slice(hashAt) : '';
  const noFrag = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const q = noFrag.indexOf('?');
  if (q < 0) return { url, params: {} };
  const search = new URLSearchParams(noFrag.slice(q + 1));
  const params: Record<string, string> = {};
  for (const n of names) {
    const v = search.get(n);
    if (v !== null) params[n] = v;
    search.delete(n);
  }
  const rest = search.toString();
  return { url: noFrag.slice(0, q) + (rest ? `?${rest}` : '') + frag, params };
}

/** The URL with its password masked, for messages. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_, scheme: string, user: string) => {
    const colon = user.indexOf(':');
    return `${scheme}${colon >= 0 ? `${user.slice(0, colon)}:***` : user}@`;
  });
}

/** Closers of the stores open in this process, for {@link closeAllStores} (Ctrl-C). */
const openClosers = new Set<() => Promise<void>>();

/**
 * Closes every store still open (the bin calls it on SIGINT / SIGTERM, so an interrupted
 * command still shuts PGlite down cleanly and releases its lock).
 */
export async function closeAllStores(): Promise<void> {
  await Promise.all([...openClosers].map((c) => c()));
}

/** Closes each client once, even when called twice (normal path and error path). */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  const close = () => {
    openClosers.delete(close);
    return (p ??= fn().catch(() => {}));
  };
  openClosers.add(close);
  return close;
}

export function errText(err: unknown): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof Error) {
    const agg = (err as { errors?: unknown[] }).errors;
    if (!err.message && Array.isArray(agg) && agg[0] instanceof Error) return agg[0].message;
    return err.message || err.name;
  }
  return String(err);
}

/** Rejects with "timed out after N ms" when `p` takes longer (the loser's rejection is swallowed). */
export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  p.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connection timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

