import type { TokenInfo } from '@tokenaccess/core';
import { setupError } from './errors';

/** Names of the request headers the proxy forwards verified claims in. */
export interface ForwardHeaders {
  /** @default 'x-tokenaccess-id' */
  id?: string;
  /** The subject, percent-encoded (`decodeURIComponent` it). @default 'x-tokenaccess-subject' */
  subject?: string;
  /** Space-separated scopes. @default 'x-tokenaccess-scopes' */
  scopes?: string;
}

/**
 * The default forwarded-claims header names.
 *
 * @example
 * ```ts
 * request.headers.get(FORWARD_HEADERS.subject); // what tokenProxy({ forward: true }) set
 * ```
 */
export const FORWARD_HEADERS: Required<ForwardHeaders> = {
  id: 'x-tokenaccess-id',
  subject: 'x-tokenaccess-subject',
  scopes: 'x-tokenaccess-scopes',
};

/** @internal */
export function resolveForwardHeaders(names: ForwardHeaders | undefined): Required<ForwardHeaders> {
  const out = { ...FORWARD_HEADERS, ...names };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v)) throw setupError(`forward header name for ${k} is not a valid header name: ${JSON.stringify(v)}`);
  }
  return { id: out.id.toLowerCase(), subject: out.subject.toLowerCase(), scopes: out.scopes.toLowerCase() };
}

/** @internal Removes every copy of the claim headers; returns whether any was there. */
export function stripClaims(headers: Headers, names: Required<ForwardHeaders>): boolean {
  let found = false;
  for (const name of [names.id, names.subject, names.scopes]) {
    if (headers.has(name)) {
      headers.delete(name);
      found = true;
    }
  }
  return found;
}

/** @internal */
export function setClaims(headers: Headers, names: Required<ForwardHeaders>, token: TokenInfo): void {
  headers.set(names.id, token.id);
  // A share link's opener is a guest, not the link's issuer: no subject for URL or session tokens.
  if (token.subject !== undefined && token.kind === 'access') headers.set(names.subject, encodeURIComponent(token.subject));
  headers.set(names.scopes, token.scopes.join(' '));
}

/**
 * Reads the claims a `tokenProxy` with `forward` put on the request. For display and logging
 * only: they are as trustworthy as the proxy is unavoidable, so authorise with `withToken` /
 * `requireToken`, which verify the token again.
 *
 * @example
 * ```ts
 * const claims = readForwardedClaims(await headers()); // { id, subject, scopes } | null
 * ```
 */
export function readForwardedClaims(
  headers: Pick<Headers, 'get'>,
  names?: ForwardHeaders,
): { id: string; subject?: string; scopes: string[] } | null {
  const n = resolveForwardHeaders(names);
  const id = headers.get(n.id);
  if (!id) return null;
  const subject = headers.get(n.subject);
  const scopes = headers.get(n.scopes);
  let decoded: string | undefined;
  if (subject !== null) {
    try {
      decoded = decodeURIComponent(subject);
    } catch {
      decoded = subject;
    }
  }
  return { id, ...(decoded !== undefined ? { subject: decoded } : {}), scopes: scopes ? scopes.split(' ').filter(Boolean) : [] };
}
