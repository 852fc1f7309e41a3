import { withToken } from '@tokenaccess/next';
import { tokens } from '../../../../lib/tokens';

// `ctx` typed as Next passes it: `next build` checks this export against the route's params.
export const GET = withToken(
  async (_request, ctx: { params: Promise<{ id: string }> }, token) => {
    const { id } = await ctx.params;
    return Response.json({ id, owner: token.subject });
  },
  { tokens, scopes: ['reports:read'] },
);
