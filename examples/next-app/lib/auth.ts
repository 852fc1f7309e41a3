import { createNextAuth } from '@tokenaccess/next';
import { tokens } from './tokens';

// Every helper bound to the one token service (Auth.js's NextAuth() pattern): no `tokens` argument
// at each call, and layouts, pages and the proxy read the token the same way.
export const { withToken, requireToken, getToken, tokenProxy, verifyPageToken, exchangeRoute } = createNextAuth(tokens);
