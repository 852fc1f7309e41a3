import type { Ctx } from '../context';
import { type SafeHtml, html } from '../html';
import { layout } from '../layout';

/** A page that only says something (403, 404, 400, 503 …): never any token data. @internal */
export function messagePage(ctx: Ctx, heading: string, text: string, back?: { href: string; label: string }): SafeHtml {
  const link = back ?? { href: `${ctx.base}/`, label: 'Back to the list' };
  return layout(ctx, heading, html`<p class="error" role="alert">${text}</p><p><a href="${link.href}">${link.label}</a></p>`, [{ label: heading }]);
}
