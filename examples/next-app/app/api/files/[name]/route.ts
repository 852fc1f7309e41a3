import { withToken } from '@tokenaccess/next';
import { tokens } from '../../../../lib/tokens';

// A download: opened by a share link bound to this URL (one use), or a Bearer token with files:read.
export const GET = withToken(
  async (_request, ctx: { params: Promise<{ name: string }> }) => {
    const { name } = await ctx.params;
    return new Response(`%PDF-1.7 demo contents of ${name}`, {
      headers: { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${name}"`, 'cache-control': 'no-store' },
    });
  },
  { tokens, scopes: ['files:read'] },
);
