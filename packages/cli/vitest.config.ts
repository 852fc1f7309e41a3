import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// The tests run the BUILT command as a subprocess: globalSetup builds it (and the store packages
// it imports) once per run.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ['./test/global-setup.ts'], testTimeout: 180_000 } }));
