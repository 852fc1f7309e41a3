// Pepper rotation: tokens issued under k1 keep working after current moves to k2.
import { createTokenAccess, memoryStore } from '@tokenaccess/core';

export async function main() {
  const store = memoryStore();
  const v1 = createTokenAccess({ store, pepper: { current: 'k1', keys: { k1: process.env.PEPPER_K1 ?? 'k1-secret-at-least-16-chars' } } });
  const old = await v1.issue({ subject: 'user-1', name: 'laptop' });

  // later: add k2, make it current, keep k1 until every k1 token has expired
  const v2 = createTokenAccess({
    store,
    pepper: {
      current: 'k2',
      keys: { k1: process.env.PEPPER_K1 ?? 'k1-secret-at-least-16-chars', k2: process.env.PEPPER_K2 ?? 'k2-secret-at-least-16-chars' },
    },
  });
  const fresh = await v2.issue({ subject: 'user-1', name: 'phone' });
  return { oldStillValid: (await v2.verify(old.token)).ok, newHashPrefix: fresh.info.hash.slice(0, 3) };
}
