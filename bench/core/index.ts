/**
 * bench/core: memory-store `verify` against the floor it cannot beat, measured in the same run:
 * `crypto.hash('sha256')` of the token plus a `Map.get` over the same number of entries.
 *
 *   npx tsx bench/core/index.ts [entries=1000000]
 */
import * as nodeCrypto from 'node:crypto';
import { createTokenAccess, memoryStore, newId } from '@tokenaccess/core';
import { compare, header, ratio, table } from '../lib';

const N = Number(process.argv[2] ?? 1_000_000);
const hash = (nodeCrypto as unknown as { hash: (a: string, d: string, e: 'hex') => string }).hash;

header(`bench/core — memory store verify vs crypto.hash + Map.get, ${N.toLocaleString('en-US')} tokens`);

const store = memoryStore();
const tokens = createTokenAccess({ store });
const raws: string[] = [];
const map = new Map<string, { id: string; scopes: string[] }>();
const t0 = performance.now();
// Issue a sample through the API (real tokens), and fill the rest directly so setup stays fast.
for (let i = 0; i < 1000; i++) raws.push((await tokens.issue({ subject: `u${i % 100}`, name: 'bench', scopes: ['users:read'] })).token);
const now = new Date();
for (let i = raws.length; i < N; i++) {
  const h = hash('sha256', `filler-${i}`, 'hex');
  await store.insert({ id: newId(now.getTime()), kind: 'access', subject: `u${i % 100}`, name: 'bench', scopes: ['users:read'], uses: 0, createdAt: now, hint: 'tka_fill', hash: h });
}
for (const r of raws) map.set(hash('sha256', r, 'hex'), { id: 'x', scopes: ['users:read'] });
for (let i = map.size; i < N; i++) map.set(hash('sha256', `filler-${i}`, 'hex'), { id: 'x', scopes: ['users:read'] });
console.log(`setup: ${Math.round(performance.now() - t0)} ms, store size ${store.size.toLocaleString('en-US')}\n`);

// Warm lastUsedAt so the steady state (no writes) is what is measured, as in production.
for (const r of raws) await tokens.verify(r);

let sink = 0;
const results = await compare(
  [
    { name: 'baseline', run: (i) => void (sink += map.get(hash('sha256', raws[i % raws.length]!, 'hex'))!.scopes.length) },
    {
      name: 'verify',
      run: async (i) => {
        const r = await tokens.verify(raws[i % raws.length]!, { scopes: ['users:read'] });
        if (!r.ok) throw new Error(r.error.code);
      },
    },
    {
      name: 'malformed',
      run: async (i) => {
        const r = await tokens.verify(`tka_${'x'.repeat(30)}${i % 10}AAAAA`);
        if (r.ok) throw new Error('accepted garbage');
      },
    },
  ],
  { concurrency: 1, ms: 1000, rounds: 5 },
);
const base = results.get('baseline')!;
const verify = results.get('verify')!;
table([
  ['operation', 'ops/s', 'µs/op', 'ratio to baseline'],
  ['baseline: crypto.hash + Map.get', base, 1e6 / base, '1.00'],
  ['tokens.verify (memory store, scope check)', verify, 1e6 / verify, ratio(verify / base, 0.6)],
  ['tokens.verify of a malformed token (no store)', results.get('malformed')!, 1e6 / results.get('malformed')!, '-'],
]);
if (sink < 0) console.log(sink);
