import { tokenProxy } from '@tokenaccess/next';
import { tokens } from './lib/tokens';

// A first gate only: every handler below verifies again (withToken / requireToken).
export const proxy = tokenProxy({
  tokens,
  forward: true,
  rules: [
    { match: '/api/health', public: true },
    { match: '/api/public/:path*', public: true },
    { match: '/api/admin/:path*', scopes: ['admin'] },
    // share links (URL tokens) pass after a format check; the handler verifies and spends them
    { match: '/api/files/:name', scopes: ['files:read'] },
    // tokens with a use limit: checked for format only, so the handler's check is the one use
    { match: '/api/jobs/:path*', check: 'format' },
    { match: '/api/:path*' },
  ],
});

// Every path but static assets, so forged x-tokenaccess-* headers are stripped everywhere.
export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
