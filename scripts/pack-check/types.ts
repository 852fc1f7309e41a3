// (c) Types: the public types resolve from the packed tarballs and fit together.
import { createTokenAccess, memoryStore, type TokenInfo, type TokenStore, type VerifyResult } from '@tokenaccess/core';
import { redisStore } from '@tokenaccess/redis';
import { postgresStore } from '@tokenaccess/postgres';
import { mongoStore } from '@tokenaccess/mongodb';
import { tokenAuth, requireScopes, type TokenState } from '@tokenaccess/koa';
import { withToken } from '@tokenaccess/next';
import Koa from 'koa';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { MongoClient } from 'mongodb';

const stores: TokenStore[] = [
  memoryStore(),
  redisStore({ client: new Redis({ lazyConnect: true }) }),
  postgresStore({ client: new Pool() }),
  mongoStore({ db: new MongoClient('mongodb://127.0.0.1').db('x') }),
];
const tokens = createTokenAccess({ store: stores[0]! });

export async function check(raw: string): Promise<string | undefined> {
  const r: VerifyResult = await tokens.verify(raw, { scopes: ['a'], mode: 'any' });
  const info: TokenInfo | undefined = r.ok ? r.token : undefined;
  return info?.subject;
}

const app = new Koa<TokenState>();
app.use(tokenAuth({ tokens }));
app.use(requireScopes('users:read'));
app.use((ctx) => {
  const subject: string | undefined = ctx.state.token.subject;
  ctx.body = { subject };
});

export const GET = withToken(async (_request: Request, ctx: { params: Promise<{ id: string }> }, token: TokenInfo) => {
  const { id } = await ctx.params;
  return Response.json({ id, subject: token.subject });
}, { tokens });

// skipLibCheck (as apps use) would let a broken declaration degrade to `any` silently: assert
// that what the packages export is really typed.
type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T> = IsAny<T> extends true ? never : true;
const typed: [NotAny<typeof tokens>, NotAny<typeof redisStore>, NotAny<typeof postgresStore>, NotAny<typeof mongoStore>, NotAny<typeof tokenAuth>, NotAny<typeof withToken>, NotAny<TokenState['token']>] = [true, true, true, true, true, true, true];
export { typed };
