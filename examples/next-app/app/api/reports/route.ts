import { readForwardedClaims, withToken } from '@tokenaccess/next';
import { tokens } from '../../../lib/tokens';

export const GET = withToken(
  (request, _ctx, token) =>
    Response.json({
      owner: token.subject,
      reports: [{ id: 'q3', title: 'Q3 report' }],
      // what the proxy forwarded: informational only, the token above is what authorises
      forwarded: readForwardedClaims(request.headers),
    }),
  { tokens, scopes: ['reports:read'], urlTokens: false },
);
