import { type Html, type SafeHtml, html } from './html';
import type { Ctx } from './context';

/** The frame of every page: header with breadcrumbs and the operator, then `<main>`. @internal */
export function layout(ctx: Ctx, heading: string, body: Html, crumbs: { href?: string; label: string }[] = []): SafeHtml {
  const base = ctx.base;
  const trail = [{ href: `${base}/`, label: ctx.title }, ...crumbs];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${heading === ctx.title ? ctx.title : `${heading} · ${ctx.title}`}</title>
<link rel="stylesheet" href="${base}/assets/admin.css">
<link rel="icon" href="${base}/assets/icon.svg" type="image/svg+xml">
<script src="${base}/assets/admin.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<nav aria-label="Breadcrumb"><ol>${trail.map((c, i) =>
    i === trail.length - 1 ? html`<li aria-current="page">${c.label}</li>` : html`<li><a href="${c.href}">${c.label}</a></li>`,
  )}</ol></nav>
${ctx.identity ? html`<span class="who">Signed in as ${ctx.identity.name ?? ctx.identity.id}</span>` : ''}
</header>
<main id="main">
<h1>${heading}</h1>
${body}
</main>
</body>
</html>
`;
}

/** A hidden CSRF field for a form. @internal */
export const csrfField = (token: string): SafeHtml => html`<input type="hidden" name="csrf" value="${token}">`;

/** A one-button POST form (revoke, disable, sweep …). @internal */
export function postButton(action: string, csrf: string, label: string, cls = '', extra: Html = ''): SafeHtml {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}${extra}<button type="submit"${cls ? html` class="${cls}"` : ''}>${label}</button></form>`;
}
