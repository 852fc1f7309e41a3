import type { TokenInfo } from '@tokenaccess/core';
import { deadReason, livenessOf, rateCountAt, rateState } from '@tokenaccess/core/store';
import { type Style, visibleLength } from './io';

/** Status of a token at `now`: what `list` shows. `disabled` first, as verification refuses it first. */
export type TokenStatus = 'live' | 'disabled' | 'expired' | 'exhausted';

export function statusOf(t: TokenInfo, now: number): TokenStatus {
  if (t.disabledAt) return 'disabled';
  return deadReason(t, now) ?? 'live';
}

/** Past its expiry or idle timeout (disabled or not): what `--expired` filters on. */
export function isExpired(t: TokenInfo, now: number): boolean {
  return deadReason(t, now) === 'expired';
}

/**
 * A token as the JSON output shows it: dates as ISO strings, absent fields absent, plus its
 * `status`. Never a raw token (records hold none); `hash` is the stored hash, not a credential.
 */
export function tokenJson(t: TokenInfo, now: number): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, kind: t.kind };
  if (t.subject !== undefined) out.subject = t.subject;
  out.name = t.name;
  out.scopes = t.scopes;
  if (t.url) out.url = t.url;
  if (t.expiresAt) out.expiresAt = t.expiresAt.toISOString();
  if (t.idleTimeout !== undefined) out.idleTimeout = t.idleTimeout;
  if (t.maxUses !== undefined) out.maxUses = t.maxUses;
  if (t.refill) out.refill = { every: t.refill.every };
  if (t.rateLimit) {
    out.rateLimit = { limit: t.rateLimit.limit, window: t.rateLimit.window };
    // the count of the window `now` is in (the record's own is that of its last use's window)
    out.rateCount = rateCountAt(livenessOf(t), now);
  }
  out.uses = t.uses;
  out.createdAt = t.createdAt.toISOString();
  if (t.lastUsedAt) out.lastUsedAt = t.lastUsedAt.toISOString();
  if (t.disabledAt) out.disabledAt = t.disabledAt.toISOString();
  if (t.parentId !== undefined) out.parentId = t.parentId;
  if (t.metadata) out.metadata = t.metadata;
  out.hint = t.hint;
  out.hash = t.hash;
  out.status = statusOf(t, now);
  return out;
}

/**
 * A duration for humans, two units at most, rounded to the smaller one: `90d`, `12h`, `30m`,
 * `45s`, `500ms`, `1d 6h` (so 89d 23h 59m 58s reads `90d`).
 */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = ms;
  for (let pass = 0; pass < 2; pass++) {
    const i = Math.max(0, units.findIndex(([, n]) => rest >= n));
    const precision = units[Math.min(i + 1, units.length - 1)]![1];
    const rounded = Math.round(rest / precision) * precision;
    // rounding may carry into a larger unit (23h 59m 58s → 24h → 1d): settle on the new one
    if (rounded === rest) break;
    rest = rounded;
  }
  const parts: string[] = [];
  for (const [u, n] of units) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
    if (parts.length === 2 || (parts.length === 1 && rest === 0)) break;
  }
  return parts.join(' ');
}

/**
 * A rate-limited token's current window, `37/100 per 1m`: verifications counted in the window
 * `now` is in (0 once a new window began), of the limit. Empty for a token without a rate limit.
 *
 * @example
 * ```ts
 * rateText(info, Date.now()); // '37/100 per 1m'
 * ```
 */
export function rateText(t: TokenInfo, now: number): string {
  if (!t.rateLimit) return '';
  return `${rateCountAt(livenessOf(t), now)}/${t.rateLimit.limit} per ${formatDuration(t.rateLimit.window)}`;
}

/** A date relative to now, for tables: `in 6d 23h`, `3m ago`, `never`. */
export function relative(date: Date | undefined, now: number, none = 'never'): string {
  if (!date) return none;
  const d = date.getTime() - now;
  if (Math.abs(d) < 1000) return 'now';
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

/** Thousands separators, locale-independent: `100,000`. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1 token` / `2 tokens`. */
export function plural(n: number, word: string): string {
  return `${count(n)} ${word}${n === 1 ? '' : 's'}`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

/** A plain-text table: a bold header, columns padded to their widest cell, long cells cut. */
export function table(headers: string[], rows: string[][], style: Style, maxCell = 40): string {
  const cells = rows.map((r) => r.map((c) => truncate(c, maxCell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: string[], f: (s: string) => string = (s) => s) =>
    r.map((c, i) => (i === r.length - 1 ? f(c) : f(c) + ' '.repeat(widths[i]! - visibleLength(c)))).join('  ').trimEnd();
  return [line(headers, style.bold), ...cells.map((r) => line(r))].join('\n') + '\n';
}

/** The rows of `list` (a RATE column only when one of the tokens has a rate limit). */
export function tokenRows(items: TokenInfo[], now: number, style: Style): { headers: string[]; rows: string[][] } {
  const rated = items.some((t) => t.rateLimit !== undefined);
  const headers = ['ID', 'KIND', 'SUBJECT', 'NAME', 'SCOPES', 'USES', ...(rated ? ['RATE'] : []), 'EXPIRES', 'LAST USED', 'STATUS'];
  const rows = items.map((t) => {
    const status = statusOf(t, now);
    const paint = status === 'live' ? style.green : status === 'disabled' ? style.yellow : style.red;
    return [
      t.id,
      t.kind,
      t.subject ?? '-',
      t.kind === 'url' && t.url ? `${t.name} → ${t.url.url}` : t.name,
      t.scopes.join(' ') || '(none)',
      t.maxUses === undefined ? `${t.uses}` : `${t.uses}/${t.maxUses}${t.refill ? ` per ${formatDuration(t.refill.every)}` : ''}`,
      ...(rated ? [rateText(t, now) || '-'] : []),
      relative(t.expiresAt, now),
      relative(t.lastUsedAt, now, '-'),
      paint(status),
    ];
  });
  return { headers, rows };
}

/** The `key: value` block of `inspect`. */
export function details(t: TokenInfo, now: number, style: Style): string {
  const status = statusOf(t, now);
  const lines: [string, string][] = [
    ['id', t.id],
    ['kind', t.kind],
    ['subject', t.subject ?? '-'],
    ['name', t.name],
    ['hint', t.hint],
    ['scopes', t.scopes.join(' ') || '(none)'],
  ];
  if (t.url) {
    lines.push(['url', t.url.url]);
    lines.push(['methods', t.url.methods.join(' ')]);
  }
  lines.push(['status', status === 'live' ? style.green(status) : status === 'disabled' ? style.yellow(status) : style.red(status)]);
  lines.push(['created', `${t.createdAt.toISOString()} (${relative(t.createdAt, now)})`]);
  lines.push(['expires', t.expiresAt ? `${t.expiresAt.toISOString()} (${relative(t.expiresAt, now)})` : 'never']);
  if (t.idleTimeout !== undefined) lines.push(['idle timeout', formatDuration(t.idleTimeout)]);
  lines.push(['uses', t.maxUses === undefined ? `${t.uses} (unlimited)` : `${t.uses} of ${t.maxUses}${t.refill ? ` (renewed every ${formatDuration(t.refill.every)})` : ''}`]);
  if (t.rateLimit) {
    const end = rateState(livenessOf(t), now)!.resetAt;
    lines.push(['rate', `${rateText(t, now)} (this window ends ${relative(new Date(end), now)})`]);
  }
  if (t.disabledAt) lines.push(['disabled', `${t.disabledAt.toISOString()} (${relative(t.disabledAt, now)})`]);
  if (t.parentId !== undefined) lines.push(['parent', t.parentId]);
  lines.push(['last used', t.lastUsedAt ? `${t.lastUsedAt.toISOString()} (${relative(t.lastUsedAt, now)})` : 'never']);
  if (t.metadata) lines.push(['metadata', JSON.stringify(t.metadata)]);
  lines.push(['hash', t.hash]);
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${style.dim(k.padEnd(w))}  ${v}`).join('\n') + '\n';
}
