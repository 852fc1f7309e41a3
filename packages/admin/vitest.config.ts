import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// the shared aliases, plus this package's own name (tests import it as users do) and the Next
// recipe's `@/lib/…` path (test/examples/next)
export default mergeConfig(
  shared,
  defineConfig({
    resolve: { alias: { '@tokenaccess/admin': here('./src/index.ts'), '@/lib': here('./test/examples') } },
    // a browser scenario clicks through several pages; on a loaded machine one can pass 30 s
    test: { testTimeout: 90_000 },
  }),
);
