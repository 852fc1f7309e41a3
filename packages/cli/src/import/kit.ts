import { type JsonValue, type TokenInfo, TokenAccessError, newId, validateScopes } from '@tokenaccess/core';
import { deadReason } from '@tokenaccess/core/store';
import type { Row } from './source';

// What the three framework readers share: the row → record rules that are the same for all of
// them (dates, hashes, scopes, ids, expiry), written once.

/** What a reader makes of one source row. */
export type Mapped = { record: TokenInfo } | { skip: string } | { refuse: string };

/** Settings every reader gets. */
export interface MapContext {
  /** The source's wall-clock dates are this far ahead of UTC, ms (`--timezone`). */
  offsetMs: number;
  now: number;
  /** `--expires-after`: every token expires this long after its creation, at the latest. */
  expiresAfter?: number;
  /** `--idle`: idle timeout of every imported token. */
  idleTimeout?: number;
  sha256(text: string): string;
  /** tiki: `--base-url`. */
  baseUrl?: string;
  /** tiki: methods the links open with. */
  methods: string[];
  /** tiki: the links' token parameter. */
  urlParam: string;
}

/** A source row that cannot become a record: its reason is reported, the import goes on. */
export class RowError extends Error {
  override readonly name = 'RowError';
}

export const refuse = (reason: string): never => {
  throw new RowError(reason);
};

/** `UTC`, `Z`, `+02:00`, `-0530` → offset in ms. */
export function parseOffset(value: string): number | undefined {
  if (/^(utc|z|gmt)$/i.test(value)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(value);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\s*(Z|[+-]\d{2}(?::?\d{2})?))?$/;

/**
 * A date column as the database wrote it: `2026-05-01 12:00:00` is the framework's wall clock
 * (`--timezone`), a value with an offset (PostgreSQL `timestamptz`) is absolute. MySQL's zero
 * date and NULL are "no date".
 */
export function parseDate(value: unknown, column: string, offsetMs: number): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? refuse(`${column} is not a valid date`) : value;
  if (typeof value !== 'string') return refuse(`${column} is not a date`);
  if (/^0000-00-00/.test(value)) return undefined;
  const m = DATE_RE.exec(value.trim());
  if (!m) return refuse(`${column} ${JSON.stringify(value.slice(0, 40))} is not a date`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(Number(`0.${frac ?? '0'}`) * 1000));
  let offset = offsetMs;
  if (zone !== undefined) offset = zone === 'Z' ? 0 : parseOffset(zone.length === 3 ? `${zone}:00` : zone) ?? refuse(`${column} has a bad time zone`);
  const date = new Date(wall - offset);
  return Number.isNaN(date.getTime()) ? refuse(`${column} is not a valid date`) : date;
}

/** A stored SHA-256 hex hash (Sanctum's `token`, Shield's `secret`), lower-cased. */
export function sha256Column(value: unknown, column: string): string {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(value)) return refuse(`${column} is not a SHA-256 hash (64 hex characters)`);
  return value.toLowerCase();
}

/** An id or owner column as a string (`bigint`s arrive as strings). */
export function idText(value: unknown, column: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'bigint') return value.toString();
  return refuse(`${column} is empty`);
}

/** The source id as metadata keeps it: a number when it is one, else the string. */
export function idValue(text: string): JsonValue {
  return /^\d{1,15}$/.test(text) ? Number(text) : text;
}

/** A non-negative integer column (Tiki's counters). */
export function intColumn(value: unknown, column: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) return refuse(`${column} is not an integer`);
  return n;
}

/**
 * Scopes as the framework named them, checked by core's rules. `allowStar`: the framework's own
 * `*` means all scopes, as here (Sanctum, Shield). A name that would become a wildcard here
 * (`posts.*` is a literal ability in Sanctum, a wildcard in tokenaccess) is refused: an import
 * never grants more than the source did.
 */
export function importScopes(values: unknown[], what: string, allowStar: boolean): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string') return refuse(`${what} holds a ${v === null ? 'null' : typeof v}, not a name`);
    if (v === '*' ? !allowStar : /[:./]\*$/.test(v)) return refuse(`${what} ${JSON.stringify(v)} would be a wildcard here and grant more than it did; rename it in the source first`);
    out.push(v);
  }
  try {
    return validateScopes([...new Set(out)], what);
  } catch (err) {
    return refuse(err instanceof TokenAccessError ? err.message.replace(/^\[tokenaccess\]\s*/, '') : String(err));
  }
}

/** A JSON text column (Sanctum's abilities, Tiki's parameters and groups); NULL or '' is `fallback`. */
export function jsonColumn(value: unknown, column: string, fallback: unknown): unknown {
  if (value === null || value === undefined || value === '') return fallback;
  if (typeof value !== 'string') return value; // a json column the driver decoded
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return refuse(`${column} is not valid JSON`);
  }
}

/** The parts of a record every reader fills the same way. */
export interface RecordInput {
  kind: TokenInfo['kind'];
  source: 'sanctum' | 'shield' | 'tiki';
  sourceId: string;
  hash: string;
  subject?: string;
  name: string;
  scopes: string[];
  url?: TokenInfo['url'];
  expiresAt?: Date;
  maxUses?: number;
  uses?: number;
  createdAt?: Date;
  lastUsedAt?: Date;
  /** Extra facts kept under `metadata.imported`. */
  extra?: Record<string, JsonValue>;
}

/**
 * The record, or a skip when it is already dead (expired, used up): importing a token only for
 * `sweep` to delete it helps nobody. A new id from the creation time, so imports sort by it.
 */
export function buildRecord(input: RecordInput, ctx: MapContext): Mapped {
  const createdAt = input.createdAt ?? new Date(ctx.now);
  let expiresAt = input.expiresAt;
  if (ctx.expiresAfter !== undefined) {
    const cap = new Date(createdAt.getTime() + ctx.expiresAfter);
    if (expiresAt === undefined || cap < expiresAt) expiresAt = cap;
  }
  const record: TokenInfo = {
    id: newId(createdAt.getTime()),
    kind: input.kind,
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    name: input.name,
    scopes: input.scopes,
    ...(input.url ? { url: input.url } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    ...(ctx.idleTimeout !== undefined ? { idleTimeout: ctx.idleTimeout } : {}),
    ...(input.maxUses !== undefined ? { maxUses: input.maxUses } : {}),
    uses: input.uses ?? 0,
    createdAt,
    ...(input.lastUsedAt ? { lastUsedAt: input.lastUsedAt } : {}),
    metadata: { imported: { from: input.source, id: idValue(input.sourceId), ...input.extra } },
    // the source's public id: a legacy token has no prefix part that is safe to show
    hint: `${input.source}:${input.sourceId}`,
    hash: input.hash,
  };
  const dead = deadReason(record, ctx.now);
  if (dead === 'expired') return { skip: 'expired' };
  if (dead === 'exhausted') return { skip: 'used up' };
  return { record };
}

/** Runs a reader on one row: a `RowError` becomes a refusal with its reason. */
export function mapRow(row: Row, ctx: MapContext, map: (row: Row, ctx: MapContext) => Mapped): Mapped {
  try {
    return map(row, ctx);
  } catch (err) {
    if (err instanceof RowError) return { refuse: err.message };
    throw err;
  }
}
