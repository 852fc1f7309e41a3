// The page's own static files. Served by the handler under `<basePath>/assets/`, so the CSP can
// say `'self'` and nothing is inlined or loaded from elsewhere.

const CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --soft: #f6f8fa;
  --accent: #0b5cad; --danger: #b42318; --ok: #1a7f37; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .25rem .5rem; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; justify-content: space-between;
  padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--soft); }
header.top nav ol { display: flex; gap: .5rem; list-style: none; margin: 0; padding: 0; color: var(--muted); }
header.top nav li + li::before { content: "\\203A"; margin-right: .5rem; }
header.top .who { color: var(--muted); font-size: .9em; }
main { padding: 1rem 1.5rem 3rem; max-width: 78rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0 1rem; }
.button, button { display: inline-block; font: inherit; padding: .35rem .8rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--soft); color: var(--fg); text-decoration: none; cursor: pointer; }
.button.primary, button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--danger); border-color: var(--danger); background: #fff; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; padding: .75rem; background: var(--soft);
  border: 1px solid var(--line); border-radius: 6px; }
form.filters label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
input, select, textarea { font: inherit; padding: .3rem .45rem; border: 1px solid #8c959f; border-radius: 4px; background: #fff; color: var(--fg); }
textarea { width: 100%; min-height: 5rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .95em; }
caption { text-align: left; color: var(--muted); padding: .25rem 0; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85em; border: 1px solid currentColor; }
.status.active { color: var(--ok); } .status.expired, .status.exhausted { color: var(--muted); }
.status.disabled { color: var(--warn); } .soon { color: var(--warn); font-size: .85em; }
.notice { padding: .6rem .8rem; border-left: 4px solid var(--accent); background: #ddf4ff; margin: 0 0 1rem; }
.error { padding: .6rem .8rem; border-left: 4px solid var(--danger); background: #ffebe9; margin: 0 0 1rem; }
.field-error { color: var(--danger); font-size: .9em; display: block; }
.once { padding: 1rem; border: 2px solid var(--warn); border-radius: 6px; background: #fff8c5; margin: 1rem 0; }
.once input { width: 100%; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.once .row { display: flex; gap: .5rem; align-items: center; margin: .25rem 0 .75rem; }
dl.record { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; margin: 0; }
dl.record dt { color: var(--muted); }
dl.record dd { margin: 0; overflow-wrap: anywhere; }
pre { background: var(--soft); padding: .5rem; border-radius: 4px; overflow: auto; margin: 0; }
form.stack { display: grid; gap: .9rem; max-width: 42rem; }
form.stack label, form.stack legend { font-weight: 600; display: block; }
form.stack .hint { color: var(--muted); font-size: .88em; display: block; font-weight: normal; }
form.stack label .hint { display: inline; }
form.stack .check label { font-weight: normal; }
form.stack input[type=text], form.stack input[type=url], form.stack input[type=number] { width: 100%; }
fieldset { border: 1px solid var(--line); border-radius: 6px; }
fieldset label { display: inline-flex !important; gap: .3rem; font-weight: normal !important; margin-right: 1rem; }
.inline { display: inline; }
.panel { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
.panel h2 { margin-top: .25rem; }
td.nowrap { white-space: nowrap; }
.muted { color: var(--muted); }
`;

// Progressive enhancement only: the copy buttons stay hidden without JavaScript, and the value
// is in a read-only field that can be selected and copied by hand.
const JS = `'use strict';
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var field = document.getElementById(button.getAttribute('data-copy'));
  var status = document.getElementById(button.getAttribute('data-copy') + '-status');
  if (!field) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    field.focus();
    field.select();
    var done = function (text) { if (status) status.textContent = text; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(function () { done('Copied.'); }, function () { done('Press Ctrl+C (Cmd+C) to copy the selected text.'); });
    } else {
      done('Press Ctrl+C (Cmd+C) to copy the selected text.');
    }
  });
});
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="5" cy="8" r="3.5" fill="none" stroke="#0b5cad" stroke-width="2"/><path d="M8.5 8H15M12.5 8v3M14.5 8v2" stroke="#0b5cad" stroke-width="2" fill="none"/></svg>`;

/** The served files, by name under `<basePath>/assets/`. @internal */
export const ASSETS: Record<string, { type: string; body: string }> = {
  'admin.css': { type: 'text/css; charset=utf-8', body: CSS },
  'admin.js': { type: 'text/javascript; charset=utf-8', body: JS },
  'icon.svg': { type: 'image/svg+xml', body: ICON },
};
