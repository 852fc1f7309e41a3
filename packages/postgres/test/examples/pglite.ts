import { PGlite } from '@electric-sql/pglite';
import { createTokenAccess } from '@tokenaccess/core';
import { migrate, postgresStore } from '@tokenaccess/postgres';

export async function main() {
  const db = new PGlite(); // in memory; new PGlite('./tokens-data') keeps the data in a directory
  await migrate(db);
  const tokens = createTokenAccess({ store: postgresStore({ client: db }) });

  const { token } = await tokens.issue({ subject: 'user-1', name: "John's MacBook Air", scopes: ['users:read'] });
  const result = await tokens.verify(token, { scopes: ['users:read'] });
  console.log(result.ok ? `verified ${result.token.id}` : result.error.code);

  await db.close();
  return result;
}
