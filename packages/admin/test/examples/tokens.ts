import { createTokenAccess, memoryStore } from '@tokenaccess/core';

export const tokens = createTokenAccess({ store: memoryStore() });
