import { Hono } from 'hono';
import { adminHandler } from '@tokenaccess/admin';
import type { TokenAccess } from '@tokenaccess/core';
import { authorize } from './authorize';

export function createHonoApp(tokens: TokenAccess): Hono {
  const admin = adminHandler({ tokens, authorize, basePath: '/admin' });
  const app = new Hono();
  app.all('/admin', (c) => admin(c.req.raw));
  app.all('/admin/*', (c) => admin(c.req.raw));
  app.get('/', (c) => c.text('the rest of the app'));
  return app;
}
