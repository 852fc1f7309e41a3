/**
 * The SQL of `consume` against core's reference `evaluateConsume`, on random records, policies
 * and instants (fast-check): same outcome, same reason, same record returned, same record
 * stored afterwards. Boundaries (exactly at expiry, exactly one resolution after the last use,
 * uses = maxUses, a refill period's first and last millisecond, a disabled token) are drawn on
 * purpose. Runs the UPDATE statement every time (fastPathSize 0); the fast path judges with
 * evaluateConsume itself.
 */
import { PGlite } from '@electric-sql/pglite';
import { type ConsumePolicy, type TokenInfo, evaluateConsume } from '@tokenaccess/core/store';
import { newId } from '@tokenaccess/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStore } from '../src/index';
import { dropSchema, randomSchema, testPool } from './helpers';

const NOW = Date.UTC(2030, 5, 1, 12);
const SCOPES = ['*', 'a', 'a:*', 'a:read', 'b', 'b:write', "it's"];
const METHODS = ['GET', 'HEAD', 'POST'];
const CANONICAL = ['/f?id=7', '/f?id=8', "/a'b"];
const ORIGINS = ['https://x.test', 'https://y.test'];

// Offsets around the instant of the consume, with the boundaries themselves likely.
const around = fc.oneof(fc.constantFrom(-60_000, -1, 0, 1, 60_000), fc.integer({ min: -3_600_000, max: 3_600_000 }));
const maybe = <T>(arb: fc.Arbitrary<T>, freq = 2) => fc.option(arb, { nil: undefined, freq });

/** Raw choices; the record and the policy are built from them together, so most cases get past the early refusals. */
const caseArb = fc.record({
  // mostly before now; on an exact refill boundary; sometimes after now (another process's clock)
  created: fc.oneof(
    { arbitrary: fc.integer({ min: -7_200_000, max: 0 }), weight: 3 },
    { arbitrary: fc.constantFrom(-60_000, -120_000, -180_000, -3_600_000, 0), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 200_000 }), weight: 1 },
  ),
  expires: maybe(fc.oneof(around, fc.integer({ min: 1, max: 7_200_000 })), 2),
  idle: maybe(fc.constantFrom(0, 1, 60_000, 3_600_000, 10_800_000), 2),
  limit: maybe(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), 2),
  lastUsed: maybe(fc.oneof(fc.constantFrom(-60_000, -60_001, -59_999, -1, 0, 1), fc.integer({ min: -7_200_000, max: 0 }))),
  // the period length: with the 60 s boundaries above, and small ones so periods are many
  refill: fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.constantFrom(1, 7, 1000, 60_000, 3_600_000), weight: 1 }),
  rawLastUsed: fc.boolean(),
  disabled: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.integer({ min: -7_200_000, max: 7_200_000 }), weight: 1 }),
  scopes: fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 3 }),
  url: maybe(fc.record({ canonical: fc.constantFrom(...CANONICAL), origin: maybe(fc.constantFrom(...ORIGINS)), methods: fc.uniqueArray(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 2 }) })),
  resolution: fc.constantFrom(0, 1, 60_000),
  // the request: mostly the record's own binding, sometimes another
  sameUrl: fc.boolean(),
  reqUrl: fc.record({ canonical: fc.constantFrom(...CANONICAL), method: fc.constantFrom(...METHODS), origin: maybe(fc.constantFrom(...ORIGINS)) }),
  scopeReq: maybe(fc.record({ mode: fc.constantFrom('all' as const, 'any' as const), anyOf: fc.array(fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 3 }), { maxLength: 3 }) })),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function build(g: Case): { record: TokenInfo; policy: ConsumePolicy } {
  const record: TokenInfo = {
    id: newId(NOW),
    kind: g.url ? 'url' : 'access',
    name: 'p',
    scopes: g.scopes,
    uses: 0,
    createdAt: new Date(NOW + g.created),
    hint: 'tka_prop',
    hash: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''),
  };
  if (g.expires !== undefined) record.expiresAt = new Date(NOW + g.expires);
  if (g.idle !== undefined) record.idleTimeout = g.idle;
  if (g.limit) {
    record.maxUses = g.limit[0];
    record.uses = Math.min(g.limit[1], g.limit[0] + 1);
  }
  // At or after creation, mostly (`1` puts it after now: a use never moves it back); sometimes
  // as drawn but counted from creation, so just before it (a negative period, where PostgreSQL's
  // truncating division is not floor).
  const lastUsed = g.rawLastUsed ? g.created + g.lastUsed! : g.created > 0 ? g.lastUsed! : Math.max(g.lastUsed!, g.created);
  if (g.lastUsed !== undefined) record.lastUsedAt = new Date(NOW + lastUsed);
  if (g.refill !== undefined) record.refill = { every: g.refill };
  if (g.disabled !== undefined) record.disabledAt = new Date(NOW + g.disabled);
  if (g.url) record.url = { url: `https://x.test${g.url.canonical}`, canonical: g.url.canonical, methods: g.url.methods, ...(g.url.origin ? { origin: g.url.origin } : {}) };

  const policy: ConsumePolicy = { lastUsedResolution: g.resolution };
  // A Bearer request (no url) for an access token, a URL request for a URL token, mostly.
  if (g.url && g.sameUrl) policy.url = { canonical: g.url.canonical, method: g.url.methods[0]!, ...(g.reqUrl.origin ? { origin: g.reqUrl.origin } : {}) };
  else if (g.url || !g.sameUrl) policy.url = { canonical: g.reqUrl.canonical, method: g.reqUrl.method, ...(g.reqUrl.origin ? { origin: g.reqUrl.origin } : {}) };
  if (!g.url && g.sameUrl) delete policy.url;
  if (g.scopeReq) policy.scopes = g.scopeReq;
  return { record, policy };
}

/** Cases run first on every property run: refill's arithmetic at its edges. */
const base: Case = {
  created: -1000, expires: undefined, idle: undefined, limit: [1, 1], lastUsed: undefined, refill: 60_000, rawLastUsed: false,
  disabled: undefined, scopes: ['*'], url: undefined, resolution: 60_000, sameUrl: true, reqUrl: { canonical: '/f?id=7', method: 'GET', origin: undefined }, scopeReq: undefined,
};
const EXAMPLES: [Case][] = [
  // last use 1 ms before creation: period -1, now in period 0: refilled (truncation would say 0 and 0)
  [{ ...base, lastUsed: -1, rawLastUsed: true }],
  // exactly on a boundary: last use in period 0 (its last ms), now in period 1
  [{ ...base, created: -60_000, lastUsed: -1, limit: [2, 2] }],
  // the same ms one period earlier: not refilled, exhausted
  [{ ...base, created: -59_999, lastUsed: -1, limit: [2, 2] }],
  // last use after now (a faster clock elsewhere): counted in the stored period, lastUsedAt kept
  [{ ...base, created: -500, lastUsed: 1, limit: [3, 1], refill: 1000 }],
  // created after now: both periods negative
  [{ ...base, created: 500, lastUsed: -60_000, limit: [1, 1], refill: 1000 }],
  [{ ...base, created: 500, lastUsed: -400, limit: [1, 1], refill: 1000, rawLastUsed: true }],
  // disabled wins over expired and exhausted
  [{ ...base, expires: -1, limit: [1, 5], disabled: -1 }],
];

function property(client: () => Parameters<typeof postgresStore>[0]['client'], schema: string, runs: number, seen: Set<string>) {
  return fc.assert(
    fc.asyncProperty(caseArb, async (g) => {
      const { record, policy } = build(g);
      const store = postgresStore({ client: client(), schema, fastPathSize: 0 });
      await store.insert(record);
      const now = NOW;
      const expected = evaluateConsume(record, now, policy);
      const got = await store.consume(record.hash, new Date(now), policy);
      const refilled = expected.ok && record.refill !== undefined && record.maxUses !== undefined && expected.record.uses <= record.uses;
      seen.add(expected.ok ? (expected.write ? (refilled ? 'ok, written, refilled' : 'ok, written') : 'ok, no write') : expected.reason);
      if (expected.ok) {
        expect(got).toEqual({ ok: true, record: expected.record });
        expect(await store.findByHash(record.hash)).toEqual(expected.record);
      } else {
        expect(got).toEqual({ ok: false, reason: expected.reason, record });
        expect(await store.findByHash(record.hash)).toEqual(record);
      }
      await store.deleteByHash(record.hash);
    }),
    { numRuns: runs, examples: EXAMPLES },
  );
}

describe('consume SQL ≡ evaluateConsume', () => {
  const lite = new PGlite();
  const pool = testPool({ max: 2 });
  const liteSchema = randomSchema('prop');
  const pgSchema = randomSchema('prop');
  beforeAll(async () => {
    await migrate(lite, { schema: liteSchema });
    await migrate(pool, { schema: pgSchema });
  });
  afterAll(async () => {
    await dropSchema(pool, pgSchema);
    await pool.end();
    await lite.close();
  });

  it('on PGlite, 1,000 random cases, covering every outcome', async () => {
    const seen = new Set<string>();
    await property(() => lite, liteSchema, 1000, seen);
    expect([...seen].sort()).toEqual(['disabled', 'exhausted', 'expired', 'insufficient_scope', 'ok, no write', 'ok, written', 'ok, written, refilled', 'url_mismatch']);
  }, 120_000);
  it('on PostgreSQL, 400 random cases', () => property(() => pool, pgSchema, 400, new Set()), 120_000);
});
