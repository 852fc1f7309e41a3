import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Koa 3 (the `koa` devDependency). `vitest.koa2.config.ts` runs the same tests on Koa 2; `npm test` runs both.
export default mergeConfig(shared, defineConfig({ test: { name: 'koa3', env: { KOA_MAJOR: '3' } } }));
