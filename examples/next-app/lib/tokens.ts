/**
 * One token service for the whole process. The memory store works here because `next start`
 * serves route handlers, pages and (on Next 16) `proxy.ts` from one Node process; it is kept on
 * `globalThis` because Next bundles those separately, and a module-level singleton would exist
 * once per bundle. Several instances, serverless or an edge middleware need a shared store
 * (`@tokenaccess/redis`, `@tokenaccess/postgres`). `checkOrigin`: a link issued for an absolute
 * URL opens only on that host (the Host header the request was served on); links issued for a
 * path open on any host this app serves.
 */
import { type TokenAccess, createTokenAccess, memoryStore } from '@tokenaccess/core';

const holder = globalThis as typeof globalThis & { __tokenaccessDemo?: TokenAccess };

export const tokens: TokenAccess = (holder.__tokenaccessDemo ??= createTokenAccess({ store: memoryStore(), realm: 'next-app', checkOrigin: true }));
