import { defineConfig } from 'vitest/config';

// The e2e test talks HTTP to a real `next start`; it imports no workspace package.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 240_000, fileParallelism: false } });
