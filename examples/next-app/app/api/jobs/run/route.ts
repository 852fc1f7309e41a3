import { withToken } from '@tokenaccess/next';
import { tokens } from '../../../../lib/tokens';

// Tokens with maxUses come here: the proxy rule only checks their format, this is their one use.
export const POST = withToken(async (_request, _ctx, token) => Response.json({ ran: true, uses: token.uses, maxUses: token.maxUses }), {
  tokens,
  scopes: ['jobs:run'],
});
