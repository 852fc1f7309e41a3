import { withToken } from '../../../../lib/auth';

// Tokens with maxUses come here: the proxy checked this one without spending it; this is its one use.
export const POST = withToken(async (_request, _ctx, token) => Response.json({ ran: true, uses: token.uses, maxUses: token.maxUses }), {
  scopes: ['jobs:run'],
});
