import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig([
  {
    // The programmatic API: `import { run } from '@tokenaccess/cli'`.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: ['index.*'],
    sourcemap: true,
    target: 'es2022',
    define: { __CLI_VERSION__: JSON.stringify(version) },
  },
  {
    // The `tokenaccess` bin: ESM only, with its shebang. Drivers and store packages stay external
    // and are imported lazily, so `tokenaccess list` against Redis never loads pg or PGlite.
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    dts: false,
    clean: ['bin.*'],
    sourcemap: true,
    target: 'es2022',
    banner: { js: '#!/usr/bin/env node' },
    define: { __CLI_VERSION__: JSON.stringify(version) },
  },
]);
