import type { NextRequest } from 'next/server.js';

/** `host[:port]`: a DNS name or IPv4 address, or a bracketed IPv6 address. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * @internal The URL core compares a URL token's binding with: the path and query Next routed
 * (`request.url`, whose dot segments Next has already resolved: the raw target is not available
 * to a route handler), under the origin this server serves the request on: the protocol Next
 * decided (TLS, or its own reading of `X-Forwarded-Proto`) and the `Host` header. Not the
 * origin of `request.url`, which under `next start` is the listening address
 * (`http://localhost:3000`), and never the authority of an absolute-form request target. Without
 * a well-formed Host the URL is path-only, so a binding with an origin cannot match (fail closed).
 */
export function servedUrl(request: Pick<Request, 'url' | 'headers'>): string {
  const url = new URL(request.url);
  const host = request.headers.get('host');
  const path = `${url.pathname}${url.search}`;
  return host && HOST.test(host) ? `${url.protocol}//${host}${path}` : path;
}

/**
 * @internal The request as this server serves it, for core calls that answer with a URL (the
 * share-link exchange redirects to the link's own URL): {@link servedUrl}, the method, the
 * headers and, for a POST (a confirm button), the body. `undefined` without a usable `Host`:
 * the server cannot name its own origin then, and the caller refuses the request.
 */
export async function servedRequest(request: NextRequest | Request): Promise<Request | undefined> {
  const url = servedUrl(request);
  if (url.startsWith('/')) return undefined;
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  return new Request(url, { method: request.method, headers: request.headers, ...(body ? { body } : {}) });
}
