// app/admin/[[...path]]/route.ts: the page at /admin and everything below it
import { adminHandler } from '@tokenaccess/admin';
import { authorize } from '@/lib/authorize';
import { tokens } from '@/lib/tokens';

const admin = adminHandler({
  tokens,
  authorize,
  basePath: '/admin',
  secret: process.env.ADMIN_CSRF_SECRET, // the same 32+ bytes on every instance
});

export const GET = admin;
export const HEAD = admin;
export const POST = admin;
