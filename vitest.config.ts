import { defineConfig } from 'vitest/config';

// Each package runs its own `vitest run` (through turbo); this root config only serves editors.
export default defineConfig({ test: { projects: ['packages/*', 'examples/*', 'tooling/*'] } });
