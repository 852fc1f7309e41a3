import { memoryStore } from '@tokenaccess/core';
import { storeTestSuite } from '@tokenaccess/test-suite';

storeTestSuite({ name: 'memory', createStore: () => memoryStore() });
storeTestSuite({ name: 'memory (deleteExhausted)', createStore: () => memoryStore({ deleteExhausted: true }) });
