import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// test/global-setup.ts picks the MongoDB (real URL, mongodb-memory-server, or the stand-in)
// once per run and hands its URL to every test file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ['./test/global-setup.ts'] } }));
