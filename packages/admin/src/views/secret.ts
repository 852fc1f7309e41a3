import type { TokenInfo } from '@tokenaccess/core';
import { type Ctx, tokenPath } from '../context';
import { type SafeHtml, html } from '../html';
import { layout } from '../layout';

function copyable(id: string, label: string, value: string): SafeHtml {
  return html`<label for="${id}">${label}</label>
<div class="row"><input id="${id}" type="text" readonly value="${value}" autocomplete="off" spellcheck="false">
<button type="button" data-copy="${id}" aria-label="Copy ${label.toLowerCase()}" hidden>Copy</button></div>
<span id="${id}-status" role="status" class="muted"></span>`;
}

/**
 * The one page that holds a raw token: the answer to the POST that made it (never a GET, never
 * in a URL, `Cache-Control: no-store`). A share link is shown as text, not as a link, so that
 * clicking around the page cannot spend a one-time link.
 */
export function secretPage(ctx: Ctx, heading: string, made: { token: string; info: TokenInfo; url?: string }, note?: string): SafeHtml {
  const body = html`<div class="once" role="region" aria-labelledby="once-h">
<h2 id="once-h">Copy it now: it is shown only this once</h2>
<p>Only its hash is stored, so this page cannot be shown again: reloading it or coming back later shows no token.</p>
${made.url ? copyable('share-url', 'Share link', made.url) : ''}
${copyable('raw-token', made.url ? 'Token (the link’s token parameter)' : 'Token', made.token)}
</div>
${note ? html`<p>${note}</p>` : ''}
<div class="actions"><a class="button" href="${tokenPath(ctx, made.info.id)}">View ${made.info.name}</a> <a href="${ctx.base}/">Back to the list</a></div>`;
  return layout(ctx, heading, body, [{ label: heading }]);
}
