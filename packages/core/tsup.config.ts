import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts', store: 'src/store-kit.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', store: 'src/store-kit.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  splitting: true,
});
