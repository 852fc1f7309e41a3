import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Tests import workspace packages from their sources, so a test run never depends on (or races)
 * a build. The packed-tarball check (scripts/pack-check) covers the built `dist/`.
 */
export const alias = {
  // the subpath first: a string alias also matches `<key>/…`
  '@tokenaccess/core/store': here('./packages/core/src/store-kit.ts'),
  '@tokenaccess/core': here('./packages/core/src/node.ts'),
  '@tokenaccess/test-suite': here('./packages/test-suite/src/index.ts'),
  '@tokenaccess/redis': here('./packages/redis/src/index.ts'),
  '@tokenaccess/postgres': here('./packages/postgres/src/index.ts'),
  '@tokenaccess/mongodb': here('./packages/mongodb/src/index.ts'),
  '@tokenaccess/koa': here('./packages/koa/src/index.ts'),
  '@tokenaccess/next': here('./packages/next/src/index.ts'),
  'test-utils': here('./tooling/test-utils/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: { testTimeout: 30_000, hookTimeout: 60_000, fileParallelism: false },
});
