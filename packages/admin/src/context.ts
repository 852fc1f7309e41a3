import type { TokenAccess } from '@tokenaccess/core';
import type { AdminIdentity } from './options';

/** What a view needs of the request being answered. @internal */
export interface Ctx {
  tokens: TokenAccess;
  /** The mount path, no trailing slash (`''` at the root). */
  base: string;
  title: string;
  identity: AdminIdentity | null;
  /** A CSRF token for this operator, for the forms of this page. */
  csrf: string;
  now: number;
  pageSize: number;
}

/** The path of a token's detail page. @internal */
export const tokenPath = (ctx: Ctx, id: string): string => `${ctx.base}/tokens/${encodeURIComponent(id)}`;
