import { defineConfig } from 'vitest/config';

// A fresh clone installs and builds: minutes, not seconds.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 600_000 } });
