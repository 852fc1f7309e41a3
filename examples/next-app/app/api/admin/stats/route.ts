import { withToken } from '@tokenaccess/next';
import { tokens } from '../../../../lib/tokens';

export const GET = withToken(async (_request, _ctx, token) => Response.json({ tokens: 6, by: token.subject }), { tokens, scopes: ['admin'] });
