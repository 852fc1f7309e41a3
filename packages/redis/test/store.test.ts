import { storeTestSuite } from '@tokenaccess/test-suite';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { REDIS_URL, clientOptions, isolatedStores } from './servers';

// Every test gets its own key prefix on the shared local Redis; cleanup drops it.
const client = new Redis(REDIS_URL, clientOptions);
afterAll(() => client.quit());

storeTestSuite({ name: 'redis', ...isolatedStores(() => client) });
storeTestSuite({ name: 'redis (script only, no read-first)', ...isolatedStores(() => client, { readFirst: false }) });
