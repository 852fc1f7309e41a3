import { exchangeRoute } from '../../../../lib/auth';

// A link to this file shows a confirm page first (link previews spend nothing); its button
// exchanges the link for a session cookie, and the session downloads the file.
export const { GET, POST } = exchangeRoute({
  cookie: 'file_session',
  confirm: true,
  handler: async (_request, ctx: { params: Promise<{ name: string }> }) => {
    const { name } = await ctx.params;
    return new Response(`demo contents of ${name}`, { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });
  },
});
