// The create forms' input rules: text fields in, `issue` / `issueUrl` options out, with one
// clear message per bad field. What core itself refuses (a bad scope wildcard, a URL that cannot
// be bound) comes back from core as `invalid_argument` and is shown the same way.

import { type Duration, type IssueOptions, type IssueUrlOptions, type JsonValue, parseDuration, rateLimitBounds } from '@tokenaccess/core';

/** The methods a share link may be opened with, as the form offers them. @internal */
export const LINK_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A submitted form: the values as sent (to show again) and the errors by field. @internal */
export interface Submitted {
  values: URLSearchParams;
  errors: Record<string, string>;
}

const text = (form: URLSearchParams, name: string): string => (form.get(name) ?? '').trim();

function required(s: Submitted, name: string, label: string, max = 512): string {
  const v = text(s.values, name);
  if (v === '') s.errors[name] = `${label} is required.`;
  else if (v.length > max) s.errors[name] = `${label} is longer than ${max} characters.`;
  return v;
}

function optionalText(s: Submitted, name: string, label: string, max = 512): string | undefined {
  const v = text(s.values, name);
  if (v.length > max) s.errors[name] = `${label} is longer than ${max} characters.`;
  return v === '' ? undefined : v;
}

function scopes(s: Submitted): string[] | undefined {
  const v = text(s.values, 'scopes');
  if (v === '') return undefined;
  const list = v.split(/[\s,]+/).filter((x) => x !== '');
  if (list.length > 100) s.errors.scopes = 'At most 100 scopes.';
  return list;
}

function durationField(s: Submitted, name: string, label: string): Duration | undefined {
  const v = text(s.values, name);
  if (v === '') return undefined;
  const d = (/^\d+$/.test(v) ? Number(v) : v) as Duration;
  try {
    parseDuration(d, name);
    return d;
  } catch {
    s.errors[name] = `${label} must be a duration such as 30m, 12h, 7d or 2w.`;
    return undefined;
  }
}

function count(s: Submitted, name: string, label: string): number | undefined {
  const v = text(s.values, name);
  if (v === '') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    s.errors[name] = `${label} must be a whole number of at least 1.`;
    return undefined;
  }
  return n;
}

/**
 * The optional rate limit: `rateLimit` (how many) and `rateWindow` (per how long), both or
 * neither, within core's bounds (`rateLimitBounds`: 1 to 1,000,000,000 per 1 s to 366 d, whole seconds).
 */
function rateLimit(s: Submitted): { limit: number; window: number } | undefined {
  const limitText = text(s.values, 'rateLimit');
  const windowText = text(s.values, 'rateWindow');
  if (limitText === '' && windowText === '') return undefined;
  let limit: number | undefined;
  if (limitText === '') s.errors.rateLimit = 'Rate limit is needed with a rate window: how many requests each window allows.';
  else if (!/^\d+$/.test(limitText) || !rateLimitBounds.limitOk(Number(limitText))) s.errors.rateLimit = 'Rate limit must be a whole number from 1 to 1000000000.';
  else limit = Number(limitText);
  let window: number | undefined;
  if (windowText === '') s.errors.rateWindow = 'Rate window is needed with a rate limit, such as 1m or 1h.';
  else {
    try {
      if (/^\d+$/.test(windowText)) throw new Error('a unit is needed');
      window = parseDuration(windowText as Duration, 'rateWindow');
    } catch {
      window = undefined;
    }
    if (window === undefined || !rateLimitBounds.windowOk(window)) {
      s.errors.rateWindow = 'Rate window must be whole seconds from 1s to 366d, such as 30s, 1m, 1h or 1d.';
      window = undefined;
    }
  }
  return limit !== undefined && window !== undefined ? { limit, window } : undefined;
}

function metadata(s: Submitted): Record<string, JsonValue> | undefined {
  const v = text(s.values, 'metadata');
  if (v === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    s.errors.metadata = 'Metadata must be a JSON object, such as {"team": "billing"}.';
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    s.errors.metadata = 'Metadata must be a JSON object (in braces), not a list or a single value.';
    return undefined;
  }
  return parsed as Record<string, JsonValue>;
}

const checked = (form: URLSearchParams, name: string) => form.get(name) === 'on';

/** The API token form's options, or its errors. @internal */
export function tokenForm(values: URLSearchParams): { submitted: Submitted; options?: IssueOptions } {
  const s: Submitted = { values, errors: {} };
  const subject = required(s, 'subject', 'Owner');
  const name = required(s, 'name', 'Name');
  const expiresIn = checked(values, 'never') ? null : durationField(s, 'expiresIn', 'Expires in');
  const idleTimeout = durationField(s, 'idleTimeout', 'Idle timeout');
  const maxUses = count(s, 'maxUses', 'Max uses');
  const refill = durationField(s, 'refill', 'Refill every');
  if (refill !== undefined && maxUses === undefined && !s.errors.maxUses) s.errors.refill = 'Refill needs Max uses: it renews that budget.';
  const rate = rateLimit(s);
  const options: IssueOptions = { subject, name };
  const sc = scopes(s);
  const meta = metadata(s);
  if (sc) options.scopes = sc;
  if (expiresIn !== undefined) options.expiresIn = expiresIn;
  if (idleTimeout !== undefined) options.idleTimeout = idleTimeout;
  if (maxUses !== undefined) options.maxUses = maxUses;
  if (refill !== undefined) options.refill = { every: refill };
  if (rate) options.rateLimit = rate;
  if (meta) options.metadata = meta;
  return Object.keys(s.errors).length ? { submitted: s } : { submitted: s, options };
}

/** The share link form's options, or its errors. @internal */
export function linkForm(values: URLSearchParams): { submitted: Submitted; options?: IssueUrlOptions } {
  const s: Submitted = { values, errors: {} };
  // the URL exactly as typed (no trimming inside): `%2C`, `a[]=1&a[]=2` and the order are kept
  const url = required(s, 'url', 'URL', 8192);
  const expiresIn = checked(values, 'never') ? null : durationField(s, 'expiresIn', 'Expires in');
  const maxUses = checked(values, 'unlimited') ? null : count(s, 'maxUses', 'Max uses');
  const methods = values.getAll('methods');
  if (methods.length === 0) s.errors.methods = 'Choose at least one method.';
  else if (methods.some((m) => !LINK_METHODS.includes(m))) s.errors.methods = `Methods must be among ${LINK_METHODS.join(', ')}.`;
  const rate = rateLimit(s);
  const options: IssueUrlOptions = { url, methods };
  const subject = optionalText(s, 'subject', 'Owner');
  const name = optionalText(s, 'name', 'Name');
  const sc = scopes(s);
  const meta = metadata(s);
  if (subject !== undefined) options.subject = subject;
  if (name !== undefined) options.name = name;
  if (sc) options.scopes = sc;
  if (expiresIn !== undefined) options.expiresIn = expiresIn;
  if (maxUses !== undefined) options.maxUses = maxUses;
  if (rate) options.rateLimit = rate;
  if (meta) options.metadata = meta;
  return Object.keys(s.errors).length ? { submitted: s } : { submitted: s, options };
}
