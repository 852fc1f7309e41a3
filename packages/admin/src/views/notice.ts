import { type SafeHtml, html } from '../html';

// What a redirect after a POST may announce: fixed texts chosen by key, so a crafted link can
// make the page say nothing else.
const NOTICES: Record<string, (count: number) => string> = {
  revoked: () => 'The token was revoked. It no longer works and is gone from the store.',
  disabled: () => 'The token was disabled: it is refused (and spends nothing) until it is enabled again.',
  enabled: () => 'The token was enabled again.',
  swept: (n) => `Sweep removed ${n} expired or used-up token${n === 1 ? '' : 's'}.`,
  resubmitted: () =>
    'That form was already sent. A token is shown only once, right after it is made, so it is not shown again and no second token was made. Issue a new one if the first was lost.',
};

/** The notice named by a redirect's `?notice=` (and `count=`), or nothing. @internal */
export function noticeFrom(query: URLSearchParams): SafeHtml {
  const make = NOTICES[query.get('notice') ?? ''];
  if (!make) return html``;
  const count = Number.parseInt(query.get('count') ?? '0', 10);
  return html`<p class="notice" role="status">${make(Number.isSafeInteger(count) && count >= 0 ? count : 0)}</p>`;
}

