import { defineConfig, mergeConfig } from 'vitest/config';
import koa3 from './vitest.config.ts';

/**
 * The same tests on Koa 2 (the peer range is `^2.14.0 || ^3.0.0`): `koa` (and `koa/…`) resolves to
 * the `koa2` devDependency (`npm:koa@^2`). Only imports that Vite resolves are aliased, which is
 * all of them here: the adapter imports Koa for types only, and `@koa/router` never imports Koa.
 * test/koa-version.test.ts fails if this run is not on Koa 2.
 */
export default mergeConfig(
  koa3,
  defineConfig({
    resolve: { alias: { koa: 'koa2' } },
    test: { name: 'koa2', env: { KOA_MAJOR: '2' } },
  }),
);
