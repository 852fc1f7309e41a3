import type { ListOptions, TokenInfo } from '@tokenaccess/core';
import { type Ctx, tokenPath } from '../context';
import { type Status, STATUS_LABEL, statusBadge, statusOf, when } from '../format';
import { type SafeHtml, html } from '../html';
import { layout, postButton } from '../layout';
import { noticeFrom } from './notice';

const EXPIRING: Record<string, { label: string; ms: number }> = {
  '1d': { label: 'within a day', ms: 86_400_000 },
  '7d': { label: 'within 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'within 30 days', ms: 30 * 86_400_000 },
};
const LIMITS = [25, 50, 100, 250];
const SOON_MS = 7 * 86_400_000;

/** The list page's filters, as its GET form sends them. @internal */
export interface ListFilters {
  subject: string;
  kind: '' | 'access' | 'url';
  status: '' | Status;
  expiring: string;
  limit: number;
  cursor: string;
}

/** Reads the filters from the query; a value the form cannot send is an error (400). @internal */
export function parseFilters(query: URLSearchParams, pageSize: number): ListFilters | string {
  const subject = (query.get('subject') ?? '').trim();
  const kind = query.get('kind') ?? '';
  const status = query.get('status') ?? '';
  const expiring = query.get('expiring') ?? '';
  const limitText = query.get('limit') ?? '';
  const cursor = query.get('cursor') ?? '';
  if (kind !== '' && kind !== 'access' && kind !== 'url') return 'Kind must be "API token" or "share link".';
  if (status !== '' && !(status in STATUS_LABEL)) return 'Status must be active, expired, used up or disabled.';
  if (expiring !== '' && !(expiring in EXPIRING)) return 'Expiring must be within a day, 7 days or 30 days.';
  const limit = limitText === '' ? pageSize : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return 'Per page must be a whole number from 1 to 1000.';
  if (subject.length > 512 || cursor.length > 2048) return 'A filter value is too long.';
  return { subject, kind, status: status as ListFilters['status'], expiring, limit, cursor };
}

/** No filter: what the list shows first (and with a filter it could not read). @internal */
export const defaultFilters = (pageSize: number): ListFilters => ({ subject: '', kind: '', status: '', expiring: '', limit: pageSize, cursor: '' });

/** The `tokens.list` call for the filters (status is applied to the page's items). @internal */
export function listOptions(f: ListFilters, now: number): ListOptions {
  return {
    limit: f.limit,
    ...(f.subject ? { subject: f.subject } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.cursor ? { cursor: f.cursor } : {}),
    ...(f.expiring ? { expiringBefore: new Date(now + EXPIRING[f.expiring]!.ms) } : {}),
  };
}

function query(f: ListFilters, cursor: string): string {
  const q = new URLSearchParams();
  if (f.subject) q.set('subject', f.subject);
  if (f.kind) q.set('kind', f.kind);
  if (f.status) q.set('status', f.status);
  if (f.expiring) q.set('expiring', f.expiring);
  if (cursor) q.set('cursor', cursor);
  q.set('limit', String(f.limit));
  return q.toString();
}

const option = (value: string, label: string, selected: string) =>
  html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

function filterForm(ctx: Ctx, f: ListFilters): SafeHtml {
  return html`<form class="filters" method="get" action="${ctx.base}/" role="search" aria-label="Filter tokens">
<label>Owner (subject)<input type="text" name="subject" value="${f.subject}" autocomplete="off"></label>
<label>Kind<select name="kind">${option('', 'any', f.kind)}${option('access', 'API token', f.kind)}${option('url', 'share link', f.kind)}</select></label>
<label>Status<select name="status">${option('', 'any', f.status)}${(Object.keys(STATUS_LABEL) as Status[]).map((s) => option(s, STATUS_LABEL[s], f.status))}</select></label>
<label>Expiring<select name="expiring">${option('', 'any time', f.expiring)}${Object.entries(EXPIRING).map(([k, v]) => option(k, v.label, f.expiring))}</select></label>
<label>Per page<select name="limit">${[...new Set([...LIMITS, f.limit])].sort((a, b) => a - b).map((n) => option(String(n), String(n), String(f.limit)))}</select></label>
<button type="submit">Filter</button> <a href="${ctx.base}/">Clear</a>
</form>`;
}

function scopesText(t: TokenInfo): string {
  if (t.scopes.length === 0) return 'none';
  return t.scopes.map((s) => (s === '*' ? '* (all)' : s)).join(', ');
}

function row(ctx: Ctx, t: TokenInfo): SafeHtml {
  const status = statusOf(t, ctx.now);
  const soon = status === 'active' && t.expiresAt && t.expiresAt.getTime() - ctx.now < SOON_MS;
  return html`<tr>
<td><a href="${tokenPath(ctx, t.id)}">${t.name}</a>${t.url ? html`<br><span class="muted mono">${t.url.url}</span>` : ''}</td>
<td class="nowrap">${t.kind === 'url' ? 'share link' : t.kind === 'access' ? 'API token' : t.kind}</td>
<td>${t.subject ?? '—'}</td>
<td><code>${t.hint}…</code></td>
<td>${scopesText(t)}</td>
<td class="nowrap">${t.uses}${t.maxUses !== undefined ? ` / ${t.maxUses}` : ''}</td>
<td>${when(t.expiresAt, 'never')}${soon ? html` <span class="soon">soon</span>` : ''}</td>
<td>${when(t.lastUsedAt, 'never')}</td>
<td>${statusBadge(status)}</td>
</tr>`;
}

/** The token list. @internal */
export function listPage(ctx: Ctx, f: ListFilters, page: { items: TokenInfo[]; cursor?: string } | null, notice: SafeHtml, error?: string): SafeHtml {
  const items = page ? page.items.filter((t) => !f.status || statusOf(t, ctx.now) === f.status) : [];
  const body = html`${notice}${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<div class="actions"><a class="button primary" href="${ctx.base}/new/token">New API token</a> <a class="button" href="${ctx.base}/new/link">New share link</a></div>
${filterForm(ctx, f)}
${f.status ? html`<p class="muted">The status filter applies to each page as it is read: a page may hold fewer than ${f.limit} tokens and the next page more.</p>` : ''}
${page
    ? html`<table>
<caption>${items.length === 0 ? 'No tokens on this page.' : `${items.length} token${items.length === 1 ? '' : 's'} on this page.`}${f.cursor ? ' (not the first page)' : ''}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Owner</th><th scope="col">Hint</th><th scope="col">Scopes</th><th scope="col">Uses</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
<tbody>${items.map((t) => row(ctx, t))}</tbody>
</table>
<nav class="actions" aria-label="Pages">${f.cursor ? html`<a href="${ctx.base}/?${query(f, '')}">First page</a>` : ''}${page.cursor ? html`<a href="${ctx.base}/?${query(f, page.cursor)}" rel="next">Next page</a>` : ''}</nav>`
    : ''}
<section class="panel" aria-labelledby="sweep-h"><h2 id="sweep-h">Sweep</h2>
<p>Delete every expired and used-up token from the store now (stores with their own expiry also do it in time).</p>
${postButton(`${ctx.base}/sweep`, ctx.csrf, 'Sweep expired and used-up tokens')}</section>`;
  return layout(ctx, ctx.title, body);
}
