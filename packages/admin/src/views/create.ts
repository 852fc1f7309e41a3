import type { Ctx } from '../context';
import { LINK_METHODS, type Submitted } from '../forms';
import { type Html, type SafeHtml, html } from '../html';
import { csrfField, layout } from '../layout';

interface Field {
  name: string;
  label: string;
  hint?: Html;
  type?: 'text' | 'url' | 'textarea';
  required?: boolean;
  placeholder?: string;
}

function field(s: Submitted | undefined, f: Field): SafeHtml {
  const value = s?.values.get(f.name) ?? '';
  const error = s?.errors[f.name];
  const ids = [f.hint ? `${f.name}-hint` : '', error ? `${f.name}-error` : ''].filter(Boolean).join(' ');
  const attrs = html`id="${f.name}" name="${f.name}"${f.required ? html` required` : ''}${ids ? html` aria-describedby="${ids}"` : ''}${error ? html` aria-invalid="true"` : ''}${f.placeholder ? html` placeholder="${f.placeholder}"` : ''}`;
  return html`<div>
<label for="${f.name}">${f.label}${f.required ? '' : html` <span class="hint">(optional)</span>`}</label>
${f.hint ? html`<span class="hint" id="${f.name}-hint">${f.hint}</span>` : ''}
${error ? html`<span class="field-error" id="${f.name}-error">${error}</span>` : ''}
${f.type === 'textarea' ? html`<textarea ${attrs} rows="3">${value}</textarea>` : html`<input type="${f.type ?? 'text'}" ${attrs} value="${value}" autocomplete="off">`}
</div>`;
}

function checkbox(s: Submitted | undefined, name: string, label: string): SafeHtml {
  return html`<div class="check"><label><input type="checkbox" name="${name}"${s?.values.get(name) === 'on' ? html` checked` : ''}> ${label}</label></div>`;
}

function summary(s: Submitted | undefined, error: string | undefined): SafeHtml {
  const n = s ? Object.keys(s.errors).length : 0;
  if (!error && n === 0) return html``;
  return html`<div class="error" role="alert"><p>${error ?? `The form has ${n} error${n === 1 ? '' : 's'}; nothing was created.`}</p>${n ? html`<ul>${Object.entries(s!.errors).map(([k, m]) => html`<li><a href="#${k}">${m}</a></li>`)}</ul>` : ''}</div>`;
}

const scopesField = (s: Submitted | undefined, hint: string) => field(s, { name: 'scopes', label: 'Scopes (groups)', hint, placeholder: 'users:read, reports:*' });
/** The optional rate limit: how many requests per window (both fields, or neither). */
const rateFields = (s: Submitted | undefined, what: string) =>
  html`${field(s, { name: 'rateLimit', label: 'Rate limit', hint: `At most this many ${what} per rate window (then 429 until the window ends). Empty: no rate limit.`, placeholder: '100' })}
${field(s, { name: 'rateWindow', label: 'Rate window', hint: 'The window of the rate limit, counted from creation: 30s, 1m, 1h, 1d (1s to 366d).', placeholder: '1m' })}`;
const metadataField = (s: Submitted | undefined) => field(s, { name: 'metadata', label: 'Metadata', type: 'textarea', hint: 'A JSON object, stored with the token: {"ticket": "OPS-12"}' });

/** The "new API token" form (again with the values and errors after a refused POST). @internal */
export function tokenFormPage(ctx: Ctx, s?: Submitted, error?: string): SafeHtml {
  const body = html`${summary(s, error)}
<p>The raw token is shown once, on the next page. Only its hash is stored.</p>
<form class="stack" method="post" action="${ctx.base}/new/token" novalidate>${csrfField(ctx.csrf)}
${field(s, { name: 'subject', label: 'Owner (subject)', required: true, hint: 'The user id the token acts for.' })}
${field(s, { name: 'name', label: 'Name', required: true, hint: "A label for people: the device or job, e.g. John's MacBook Air." })}
${scopesField(s, 'Separated by commas or spaces. Empty: all scopes (*).')}
${field(s, { name: 'expiresIn', label: 'Expires in', hint: 'A duration: 30m, 12h, 90d, 2w. Empty: the service default.' })}
${checkbox(s, 'never', 'Never expires')}
${field(s, { name: 'idleTimeout', label: 'Idle timeout', hint: 'Refused after this long unused, e.g. 30d.' })}
${field(s, { name: 'maxUses', label: 'Max uses', hint: 'Empty: unlimited.' })}
${field(s, { name: 'refill', label: 'Refill every', hint: 'Renews the max-uses budget each period, e.g. 1d.' })}
${rateFields(s, 'requests')}
${metadataField(s)}
<div><button type="submit" class="primary">Create API token</button> <a href="${ctx.base}/">Cancel</a></div>
</form>`;
  return layout(ctx, 'New API token', body, [{ label: 'New API token' }]);
}

/** The "new share link" form: Tiki's Token Access form. @internal */
export function linkFormPage(ctx: Ctx, s?: Submitted, error?: string): SafeHtml {
  const methods = s ? s.values.getAll('methods') : ['GET'];
  const body = html`${summary(s, error)}
<p>A share link opens one exact URL: its path and every query parameter, as given. The link is shown once, on the next page.</p>
<form class="stack" method="post" action="${ctx.base}/new/link" novalidate>${csrfField(ctx.csrf)}
${field(s, { name: 'url', label: 'URL', type: 'url', required: true, hint: 'The full URL, query included: https://example.com/report?ids[]=1&ids[]=2&tags=a%2Cb' })}
${scopesField(s, 'Scopes or groups the link grants beyond opening its URL. Empty: none.')}
${field(s, { name: 'expiresIn', label: 'Expires in', hint: 'A duration: 30m, 12h, 7d. Empty: the service default (7 days unless configured).' })}
${checkbox(s, 'never', 'Never expires')}
${field(s, { name: 'maxUses', label: 'Max uses', hint: 'How many times the link opens. Empty: the service default (1 unless configured).' })}
${checkbox(s, 'unlimited', 'Unlimited uses')}
${rateFields(s, 'opens')}
<fieldset aria-describedby="methods-hint${s?.errors.methods ? ' methods-error' : ''}"><legend>Methods</legend>
<span class="hint" id="methods-hint">Link previews send HEAD: allow it only if previews may spend a use.</span>
${s?.errors.methods ? html`<span class="field-error" id="methods-error">${s.errors.methods}</span>` : ''}
${LINK_METHODS.map((m) => html`<label><input type="checkbox" name="methods" value="${m}"${methods.includes(m) ? html` checked` : ''}${m === 'GET' ? html` id="methods"` : ''}> ${m}</label>`)}
</fieldset>
${field(s, { name: 'subject', label: 'Owner (subject)', hint: 'Who the link is issued for, if anyone.' })}
${field(s, { name: 'name', label: 'Name', placeholder: 'share link' })}
${metadataField(s)}
<div><button type="submit" class="primary">Create share link</button> <a href="${ctx.base}/">Cancel</a></div>
</form>`;
  return layout(ctx, 'New share link', body, [{ label: 'New share link' }]);
}
