import type { TokenInfo } from '@tokenaccess/core';
import { livenessOf, rateCountAt, rateState } from '@tokenaccess/core/store';
import { type Ctx, tokenPath } from '../context';
import { duration, statusBadge, statusOf, when } from '../format';
import { type Html, type SafeHtml, html } from '../html';
import { csrfField, layout, postButton } from '../layout';

const item = (label: string, value: Html) => html`<dt>${label}</dt><dd>${value}</dd>`;

/** `100 per 1m; 37 used in this window, which ends …`: the limit and the count `now` is in. */
function rate(t: TokenInfo, now: number): Html {
  const live = livenessOf(t);
  const state = rateState(live, now);
  if (!t.rateLimit || !state) return '—';
  return html`${t.rateLimit.limit} per ${duration(t.rateLimit.window)}; ${rateCountAt(live, now)} used in this window, which ends ${when(new Date(state.resetAt))}`;
}

/**
 * Everything a token's record holds except its `hash`: the hash is not a credential, but it is
 * what `revokeByHash` takes and what a leaked database would be matched against, so the page
 * never prints it.
 */
function record(ctx: Ctx, t: TokenInfo): SafeHtml {
  return html`<dl class="record">
${item('Status', statusBadge(statusOf(t, ctx.now)))}
${item('Id', html`<code>${t.id}</code>`)}
${item('Kind', t.kind === 'url' ? 'share link (URL token)' : t.kind === 'access' ? 'API token' : t.kind)}
${item('Name', t.name)}
${item('Owner (subject)', t.subject ?? '—')}
${item('Hint', html`<code>${t.hint}…</code>`)}
${item('Scopes', t.scopes.length ? html`${t.scopes.map((s, i) => html`${i ? ', ' : ''}<code>${s}</code>`)}${t.scopes.includes('*') ? ' (all scopes)' : ''}` : 'none')}
${t.url
    ? html`${item('URL', html`<span class="mono">${t.url.url}</span>`)}${t.url.origin ? item('Origin', html`<span class="mono">${t.url.origin}</span>`) : ''}${item('Matches', html`<span class="mono">${t.url.canonical}</span>`)}${item('Methods', t.url.methods.join(', '))}`
    : ''}
${item('Uses', `${t.uses}${t.maxUses !== undefined ? ` of ${t.maxUses}` : ' (not counted: no limit)'}`)}
${item('Refill', t.refill ? `the use limit renews every ${duration(t.refill.every)}` : '—')}
${item('Rate limit', rate(t, ctx.now))}
${item('Created', when(t.createdAt))}
${item('Expires', when(t.expiresAt, 'never'))}
${item('Idle timeout', t.idleTimeout !== undefined ? duration(t.idleTimeout) : '—')}
${item('Last used', when(t.lastUsedAt, 'never'))}
${item('Disabled', when(t.disabledAt, 'no'))}
${item('Derived from', t.parentId ? html`<a href="${tokenPath(ctx, t.parentId)}"><code>${t.parentId}</code></a>` : '—')}
${item('Metadata', t.metadata ? html`<pre>${JSON.stringify(t.metadata, null, 2)}</pre>` : '—')}
</dl>`;
}

/** A token's detail page, with its actions. @internal */
export function detailPage(ctx: Ctx, t: TokenInfo, notice: SafeHtml): SafeHtml {
  const path = tokenPath(ctx, t.id);
  const body = html`${notice}${record(ctx, t)}
<section class="panel" aria-labelledby="rotate-h"><h2 id="rotate-h">Rotate</h2>
<p>Issue a new ${t.kind === 'url' ? 'link' : 'token'} with the same owner, name, scopes, metadata and limits. The new one is shown once.</p>
<form method="post" action="${path}/rotate" class="actions">${csrfField(ctx.csrf)}
<label for="grace">Old one keeps working for</label>
<input id="grace" name="grace" type="text" value="0" size="6" aria-describedby="grace-hint">
<span id="grace-hint" class="muted">0 (stops at once), or a duration: 30m, 1h, 7d</span>
<button type="submit">Rotate</button></form></section>
<section class="panel" aria-labelledby="state-h"><h2 id="state-h">Disable or revoke</h2>
<div class="actions">
${t.disabledAt ? postButton(`${path}/enable`, ctx.csrf, 'Enable') : postButton(`${path}/disable`, ctx.csrf, 'Disable')}
${postButton(`${path}/revoke`, ctx.csrf, 'Revoke', 'danger')}
</div>
<p class="muted">Disabling is undone by Enable; revoking deletes the token for good.</p></section>
<p><a href="${ctx.base}/">Back to the list</a></p>`;
  return layout(ctx, t.name, body, [{ label: t.name }]);
}
