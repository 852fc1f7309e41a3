// The "Share links: security" section of docs/frameworks/koa.md (run by test/share-link-security.test.ts).
import Koa from 'koa';
import Router from '@koa/router';
import type { TokenAccess } from '@tokenaccess/core';
import { requestOrigin, tokenAuth, type TokenState } from '@tokenaccess/koa';

/**
 * The request URL with the value of every `token` parameter replaced. The key is compared
 * decoded, as tokenaccess reads it, so `%74oken=…` is redacted too.
 */
export function redactToken(url: string, param = 'token'): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const key = pair.split('=', 1)[0]!;
      return decodeKey(key) === param ? `${key}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/** One access-log line per response, never with a share link's token in it. */
export function accessLog(write: (line: string) => void): Koa.Middleware {
  return async (ctx, next) => {
    const url = redactToken(ctx.originalUrl);
    ctx.res.once('finish', () => write(`${ctx.method} ${url} ${ctx.status} ${ctx.length ?? '-'}`));
    await next();
  };
}

/** A page opened by a share link must not hand the link, token included, to the next site. */
export const noReferrer: Koa.Middleware = async (ctx, next) => {
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
};

export function shareLinkApp(tokens: TokenAccess, log: (line: string) => void): Koa<TokenState> {
  const app = new Koa<TokenState>();
  app.use(accessLog(log));
  const links = new Router<TokenState>();
  links.use(noReferrer);
  links.get('/reports/:id', tokenAuth({ tokens, urlTokens: true, scopes: ['reports:read'] }), (ctx) => {
    ctx.type = 'html';
    ctx.body = '<h1>Q3 report</h1><p>Sources: <a href="https://stats.example.org/q3">stats.example.org</a></p>';
  });
  app.use(links.routes());
  return app;
}

export function proxiedApp(tokens: TokenAccess): Koa<TokenState> {
  const app = new Koa<TokenState>();
  // Only behind a proxy that sets X-Forwarded-Proto and X-Forwarded-Host itself and drops the
  // client's copies: Koa then reads ctx.protocol and ctx.host from them, and tokenAuth too.
  app.proxy = true;
  app.use(tokenAuth({ tokens, urlTokens: true }));
  app.use((ctx) => {
    ctx.body = { servedOn: requestOrigin(ctx) };
  });
  return app;
}
