// What a log-only rejection reason may quote: never a client's query values, never a token.

/** A canonical path and query with every value elided: `/files?id=…&ids%5B%5D=…`. */
export function withoutValues(canonical: string): string {
  const q = canonical.indexOf('?');
  if (q === -1) return canonical;
  return `${canonical.slice(0, q)}?${canonical.slice(q + 1).split('&').map((p) => `${p.slice(0, p.indexOf('='))}=…`).join('&')}`;
}

/**
 * Masks anything shaped like a token of this prefix (also percent-encoded) in a log-only
 * reason, wherever it came from: a reason quotes request URLs and canonical forms.
 */
export function redactTokens(reason: string, prefix: string): string {
  return reason.includes(prefix) ? reason.replace(new RegExp(`${prefix}(?:_|%5[Ff])[A-Za-z0-9%]*`, 'g'), `${prefix}_[redacted]`) : reason;
}
