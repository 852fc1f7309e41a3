// Per-token rate limits on the embedded store (every store counts the same way: the
// conformance suite pins it). docs/rate-limits.md quotes this file.
import { createTokenAccess, memoryStore, rateLimitBounds, toResponse, type TokenAccess } from '@tokenaccess/core';

/** A service whose clock the example can move (in an app, leave `clock` out). */
export function service(start = Date.now()) {
  let now = start;
  const tokens = createTokenAccess({
    store: memoryStore(),
    clock: () => now,
    // every API token gets 1,000 requests an hour unless issued with its own limit (or null)
    defaults: { access: { rateLimit: { limit: 1000, window: '1h' } } },
  });
  return { tokens, advance: (ms: number) => void (now += ms) };
}

/** A Fetch handler: the RateLimit headers on every answer, a 429 with Retry-After when the window is full. */
export function handler(tokens: TokenAccess) {
  return async (request: Request): Promise<Response> => {
    const auth = await tokens.authenticate(request, { scopes: ['reports:read'] });
    if (!auth.ok) return toResponse(auth.error); // 429: Retry-After, RateLimit, RateLimit-Policy
    return Response.json({ hello: auth.token.subject }, { headers: auth.headers });
  };
}

export async function main(tokens: TokenAccess, advance: (ms: number) => void) {
  // 3 requests a minute for this one (a trial key)
  const { token, info } = await tokens.issue({ subject: 'user-1', name: 'trial', scopes: ['reports:read'], rateLimit: { limit: 3, window: '1m' } });
  const call = handler(tokens);
  const request = () => call(new Request('https://api.example.com/reports', { headers: { authorization: `Bearer ${token}` } }));
  const answers: { status: number; ratelimit: string | null; retryAfter: string | null }[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await request();
    answers.push({ status: res.status, ratelimit: res.headers.get('ratelimit'), retryAfter: res.headers.get('retry-after') });
  }
  advance(60_000); // the next window
  const next = await request();
  // raise the limit without a new token: the count of the current window is kept
  await tokens.update(info.id, { rateLimit: { limit: 100, window: '1m' } });
  return { answers, policy: next.headers.get('ratelimit-policy'), next: next.status, defaulted: (await tokens.issue({ subject: 'user-2', name: 'app' })).info.rateLimit };
}

/** The check the CLI and the admin page make before calling core (`limit`, window in `ms`). */
export function withinBounds(limit: number, ms: number): boolean {
  const ok = rateLimitBounds.limitOk(limit) && rateLimitBounds.windowOk(ms); // whole seconds, 1 s to 366 d
  return ok;
}
