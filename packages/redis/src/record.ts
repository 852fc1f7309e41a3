import { type JsonValue, type TokenInfo, type UrlBinding, storeMessage } from '@tokenaccess/core/store';
import { kindLetter, kindOf } from './keys';

/**
 * The stored form of a record, one string: `<uses>|<lastUsedAt ms or empty>|<json>`, or
 * `<uses>|<lastUsedAt>|<rateCount>|<json>` once a rate-limited token has been counted. The fields
 * a `consume` changes come first, so the Lua script rewrites them without re-encoding the JSON
 * (Redis's cjson would round numbers in `metadata` to 14 digits). The JSON (the body) uses short
 * keys (memory) and epoch milliseconds for dates; the hash is not repeated, it is in the key name.
 * Only `update` changes the body. The lifecycle fields `d` (disabledAt), `r` (refill.every) and
 * `q`/`w` (rateLimit, named as in the `RateLimit-Policy` header) are written only when set, and
 * `rateCount` only once counted, so a record without them costs no byte more and records written
 * before these fields existed read unchanged. The body always starts with `{`, the count never
 * does: that tells the two forms apart. A process of an earlier version fails on a counted
 * record (the count is not JSON) rather than misreading it.
 */
interface Body {
  id: string;
  /** kind: `a`ccess, `u`rl or `s`ession */
  k: 'a' | 'u' | 's';
  sub?: string;
  n: string;
  s: string[];
  b?: { u: string; o?: string; c: string; m: string[] };
  /** expiresAt */
  e?: number;
  /** idleTimeout */
  i?: number;
  /** maxUses */
  x?: number;
  /** createdAt */
  c: number;
  /** parentId */
  p?: string;
  /** disabledAt (ms); absent while enabled */
  d?: number;
  /** refill.every (ms); absent when the budget does not renew */
  r?: number;
  /** rateLimit.limit (the policy's quota); absent without a rate limit */
  q?: number;
  /** rateLimit.window (ms); present exactly when `q` is */
  w?: number;
  md?: Record<string, JsonValue>;
  /** hint */
  h: string;
}

/** @internal The JSON part of the stored form. */
export function encodeBody(r: TokenInfo): string {
  const body: Body = { id: r.id, k: kindLetter(r.kind), n: r.name, s: r.scopes, c: r.createdAt.getTime(), h: r.hint };
  if (r.subject !== undefined) body.sub = r.subject;
  if (r.url !== undefined) {
    body.b = { u: r.url.url, c: r.url.canonical, m: r.url.methods };
    if (r.url.origin !== undefined) body.b.o = r.url.origin;
  }
  if (r.expiresAt !== undefined) body.e = r.expiresAt.getTime();
  if (r.idleTimeout !== undefined) body.i = r.idleTimeout;
  if (r.maxUses !== undefined) body.x = r.maxUses;
  if (r.parentId !== undefined) body.p = r.parentId;
  if (r.disabledAt !== undefined) body.d = r.disabledAt.getTime();
  if (r.refill !== undefined) body.r = r.refill.every;
  if (r.rateLimit !== undefined) {
    body.q = r.rateLimit.limit;
    body.w = r.rateLimit.window;
  }
  if (r.metadata !== undefined) body.md = r.metadata;
  return JSON.stringify(body);
}

/** @internal */
export function encode(r: TokenInfo): string {
  const rate = r.rateCount === undefined ? '' : `${r.rateCount}|`;
  return `${r.uses}|${r.lastUsedAt === undefined ? '' : r.lastUsedAt.getTime()}|${rate}${encodeBody(r)}`;
}

/**
 * Where the parts of a stored value are: the end of `uses`, of `lastUsedAt`, and the start of the
 * body (after the optional `rateCount`). Null when the value is not a record.
 */
function split(value: string): { p1: number; p2: number; body: number } | null {
  const p1 = value.indexOf('|');
  const p2 = p1 < 0 ? -1 : value.indexOf('|', p1 + 1);
  if (p2 < 0) return null;
  if (value.charCodeAt(p2 + 1) === 0x7b /* { */) return { p1, p2, body: p2 + 1 };
  const p3 = value.indexOf('|', p2 + 1);
  return p3 < 0 ? null : { p1, p2, body: p3 + 1 };
}

/** @internal The JSON part of a stored value. */
export function bodyOf(value: string): string {
  const at = split(value);
  return at === null ? value : value.slice(at.body);
}

/** @internal */
export function decode(value: string, hash: string): TokenInfo {
  const at = split(value);
  if (at === null) throw new Error(storeMessage('redis', `not a token record: ${hash}`));
  const { p1, p2 } = at;
  const last = value.slice(p1 + 1, p2);
  const b = JSON.parse(value.slice(at.body)) as Body;
  const r: TokenInfo = {
    id: b.id,
    kind: kindOf(b.k),
    name: b.n,
    scopes: b.s,
    uses: Number(value.slice(0, p1)),
    createdAt: new Date(b.c),
    hint: b.h,
    hash,
  };
  if (b.sub !== undefined) r.subject = b.sub;
  if (b.b !== undefined) {
    const url: UrlBinding = { url: b.b.u, canonical: b.b.c, methods: b.b.m };
    if (b.b.o !== undefined) url.origin = b.b.o;
    r.url = url;
  }
  if (b.e !== undefined) r.expiresAt = new Date(b.e);
  if (b.i !== undefined) r.idleTimeout = b.i;
  if (b.x !== undefined) r.maxUses = b.x;
  if (last !== '') r.lastUsedAt = new Date(Number(last));
  if (b.md !== undefined) r.metadata = b.md;
  if (b.p !== undefined) r.parentId = b.p;
  if (b.d !== undefined) r.disabledAt = new Date(b.d);
  if (b.r !== undefined) r.refill = { every: b.r };
  if (b.q !== undefined && b.w !== undefined) r.rateLimit = { limit: b.q, window: b.w };
  if (at.body > p2 + 1) r.rateCount = Number(value.slice(p2 + 1, at.body - 1));
  return r;
}
