// The token service and handler of docs/frameworks/fetch.md, shared by the runtime wirings.
import { createTokenAccess, memoryStore } from '@tokenaccess/core';
import { createHandler } from '../fetch-handler';
const handler = createHandler(createTokenAccess({ store: memoryStore() }));

export { handler };
