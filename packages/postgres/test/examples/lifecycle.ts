import { PGlite } from '@electric-sql/pglite';
import { createTokenAccess } from '@tokenaccess/core';
import { migrate, postgresStore } from '@tokenaccess/postgres';

export async function lifecycle() {
  const db = new PGlite();
  await migrate(db); // version 3 adds disabled_at and refill_every; an existing table upgrades in place
  const store = postgresStore({ client: db });
  const tokens = createTokenAccess({ store });
  const { info } = await tokens.issue({ subject: 'user-1', name: 'CI', scopes: ['repo:*'], expiresIn: '90d' });

  // One UPDATE … WHERE id = $1 RETURNING: absent fields are kept, null clears a column,
  // uses and last_used_at are never touched, and concurrent verifications see before or after.
  const updated = await store.update!(info.id, { name: 'CI (read-only)', scopes: ['repo:read'], expiresAt: new Date(Date.now() + 86_400_000) });

  // disabledAt and refill are columns too (version 3), patched by the same one statement.
  const paused = await store.update!(info.id, { disabledAt: new Date() }); // refused as 'disabled' until cleared
  const quota = await store.update!(info.id, { disabledAt: null, maxUses: 100, refill: { every: 3_600_000 } }); // 100 uses an hour

  // Keyset pages in id order; filters combine.
  const soon = await store.list({ subject: 'user-1', expiringBefore: new Date(Date.now() + 7 * 86_400_000), limit: 100 });
  const children = await store.list({ parentId: info.id, limit: 100 });

  await db.close();
  return { updated, paused, quota, soon, children };
}
