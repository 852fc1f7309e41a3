import { tokenProxy } from './lib/auth';

// A first gate only: every handler below verifies again (withToken / requireToken). The proxy
// checks tokens without spending a use, so limited tokens reach their handler intact.
export const proxy = tokenProxy({
  forward: true,
  // share-link sessions: the cookie the /shared/:id links are exchanged for
  cookie: 'share_session',
  rules: [
    // a link to /shared/:id is exchanged here: 303 to the page without the token, session cookie set
    { match: '/shared/:id', exchange: { session: { ttl: '30m' } } },
    { match: '/api/health', public: true },
    // exchanges links and checks its session cookie itself (exchangeRoute)
    { match: '/api/shared-files/:name', public: true },
    { match: '/api/public/:path*', public: true },
    { match: '/api/admin/:path*', scopes: ['admin'] },
    // share links (URL tokens) pass after a format check; the handler verifies and spends them
    { match: '/api/files/:name', scopes: ['files:read'] },
    // a token with maxUses: checked here (scopes too), spent once, by the handler
    { match: '/api/jobs/:path*', scopes: ['jobs:run'] },
    { match: '/api/:path*' },
  ],
});

// Every path but static assets, so forged x-tokenaccess-* headers are stripped everywhere.
export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
