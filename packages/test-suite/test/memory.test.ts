import { memoryStore } from '@tokenaccess/core';
import { storeTestSuite } from '@tokenaccess/test-suite';

// No `reopen`: a memory store has no second instance over its data, so the suite reads through
// the store itself.
storeTestSuite({ name: 'memory', createStore: () => memoryStore() });
