import { createTokenAccess, memoryStore, toResponse } from '@tokenaccess/core';

const tokens = createTokenAccess({ store: memoryStore() }); // or redisStore, postgresStore, mongoStore

const { token } = await tokens.issue({ subject: 'user-1', name: 'CLI on my laptop', scopes: ['users:read'] });
// hand `token` to the user once: only its SHA-256 hash is stored

export async function handler(request: Request): Promise<Response> {
  const auth = await tokens.authenticate(request, { scopes: ['users:read'] });
  if (!auth.ok) return toResponse(auth.error); // 401 / 403 / 503 with RFC 6750 headers
  return Response.json({ hello: auth.token.subject });
}

export { token };
