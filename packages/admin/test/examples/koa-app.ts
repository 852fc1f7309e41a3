import Koa from 'koa';
import { adminHandler } from '@tokenaccess/admin';
import type { TokenAccess } from '@tokenaccess/core';
import { mount } from './koa-bridge';
import { authorize } from './authorize';

export function createKoaApp(tokens: TokenAccess): Koa {
  const app = new Koa();
  // before any body parser: the admin page reads its own form bodies
  app.use(mount('/admin', adminHandler({ tokens, authorize, basePath: '/admin' })));
  app.use((ctx) => {
    ctx.body = 'the rest of the app';
  });
  return app;
}
