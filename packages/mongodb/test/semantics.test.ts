import { applyPatch, evaluateConsume, purgeAt, type ConsumePolicy, type JsonValue, type RecordPatch, type TokenInfo } from '@tokenaccess/core/store';
import { record as baseRecord } from '@tokenaccess/test-suite';
import fc from 'fast-check';
import type { Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeFilter, consumeUpdate } from '../src/consume';
import { fromDocument, isUsedUp, toDocument, type TokenDocument } from '../src/document';
import { patchUpdate } from '../src/update';
import { randomName, useClient } from './helpers';

/**
 * The `findOneAndUpdate` of `consume` against the reference: for random records (disabled,
 * refilling and rate-limited ones among them, and ones keeping a `rateCount` without a limit),
 * policies and instants (refill period and rate window boundaries among them), the filter matches
 * exactly when `evaluateConsume` accepts, and the update pipeline
 * leaves exactly the record `evaluateConsume` returns (with `purgeAt` where core's `purgeAt()` puts
 * it, a used-up token's tombstone included, and `usedUp` exactly when it is used up for good:
 * never on a refilling token).
 * The same for `update`: the pipeline leaves exactly the record core's `applyPatch` returns.
 * On a real MongoDB this checks MongoDB's query and pipeline semantics; on the stand-in, mingo's.
 */
const { db } = useClient();
let coll: Collection<TokenDocument>;
beforeAll(() => {
  coll = db.collection<TokenDocument>(randomName('semantics'));
});
afterAll(() => coll.drop());

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2030, 0, 1);
const SCOPES = ['*', 'a', 'a:*', 'a:read', 'b'];
const METHODS = ['GET', 'HEAD', 'POST'];

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const subset = <T>(xs: T[], minLength = 0) => fc.subarray(xs, { minLength });

const recordArb = fc
  .record({
    expiresIn: opt(fc.integer({ min: -HOUR, max: 2 * HOUR })),
    idleTimeout: opt(fc.integer({ min: 1, max: 2 * HOUR })),
    lastUsedAgo: opt(fc.integer({ min: 0, max: 3 * HOUR })),
    maxUses: opt(fc.integer({ min: 0, max: 3 })),
    uses: fc.integer({ min: 0, max: 4 }),
    scopes: subset(SCOPES),
    url: opt(fc.record({ canonical: fc.constantFrom('/x', '/y'), methods: subset(METHODS, 1), origin: opt(fc.constantFrom('https://a.test', 'https://b.test')) })),
    disabled: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    refill: opt(fc.constantFrom(7 * MIN, 20 * MIN, HOUR)),
    rateLimit: opt(fc.record({ limit: fc.integer({ min: 1, max: 3 }), window: fc.constantFrom(7 * MIN, 20 * MIN, HOUR) })),
    rateCount: opt(fc.integer({ min: 0, max: 4 })),
  })
  .map((g): TokenInfo => {
    const r = baseRecord({ createdAt: new Date(T0), uses: g.uses, scopes: g.scopes });
    if (g.expiresIn !== undefined) r.expiresAt = new Date(T0 + g.expiresIn);
    if (g.idleTimeout !== undefined) r.idleTimeout = g.idleTimeout;
    if (g.lastUsedAgo !== undefined) r.lastUsedAt = new Date(T0 + HOUR - g.lastUsedAgo);
    if (g.maxUses !== undefined) r.maxUses = g.maxUses;
    if (g.disabled) r.disabledAt = new Date(T0 - MIN);
    if (g.refill !== undefined) r.refill = { every: g.refill };
    if (g.rateLimit !== undefined) r.rateLimit = g.rateLimit;
    if (g.rateCount !== undefined) r.rateCount = g.rateCount;
    if (g.url) {
      r.kind = 'url';
      r.url = { url: `https://a.test${g.url.canonical}`, canonical: g.url.canonical, methods: g.url.methods, ...(g.url.origin ? { origin: g.url.origin } : {}) };
    }
    return r;
  });

const policyArb: fc.Arbitrary<ConsumePolicy> = fc
  .record({
    lastUsedResolution: fc.constantFrom(0, MIN, HOUR),
    url: opt(fc.record({ canonical: fc.constantFrom('/x', '/y'), method: fc.constantFrom(...METHODS), origin: opt(fc.constantFrom('https://a.test', 'https://b.test')) })),
    scopes: opt(fc.record({ mode: fc.constantFrom('all' as const, 'any' as const), anyOf: fc.array(subset(SCOPES), { maxLength: 3 }) })),
  })
  .map(({ lastUsedResolution, url, scopes }) => {
    const p: ConsumePolicy = { lastUsedResolution };
    if (url) p.url = url.origin ? url : { canonical: url.canonical, method: url.method };
    if (scopes) p.scopes = scopes;
    return p;
  });

/** Random instants, and the exact edges where answers flip (expiry, idle deadline, staleness), ±1 ms. */
function nowArb(record: TokenInfo, policy: ConsumePolicy): fc.Arbitrary<Date> {
  const since = (record.lastUsedAt ?? record.createdAt).getTime();
  const edges = [record.createdAt.getTime(), since + policy.lastUsedResolution];
  if (record.expiresAt) edges.push(record.expiresAt.getTime());
  if (record.idleTimeout !== undefined) edges.push(since + record.idleTimeout);
  // the refill period boundaries around the last use
  if (record.refill) for (let k = 0; k < 4; k++) edges.push(record.createdAt.getTime() + (Math.floor((since - record.createdAt.getTime()) / record.refill.every) + k) * record.refill.every);
  // the rate window boundaries around the last use (a window before it too: a late request)
  if (record.rateLimit) for (let k = -1; k < 3; k++) edges.push(record.createdAt.getTime() + (Math.floor((since - record.createdAt.getTime()) / record.rateLimit.window) + k) * record.rateLimit.window);
  const near = edges.flatMap((t) => [t - 1, t, t + 1]);
  return fc.oneof(fc.integer({ min: 0, max: 4 * HOUR }).map((ms) => T0 + ms), fc.constantFrom(...near)).map((t) => new Date(t));
}

/** A policy that, more often than chance would, fits the record's binding (so more cases pass). */
function fitting(record: TokenInfo): fc.Arbitrary<ConsumePolicy> {
  const b = record.url;
  if (!b) return fc.oneof(policyArb.map(({ url: _, ...p }) => p), policyArb);
  const bound = { canonical: b.canonical, method: b.methods[0]!, ...(b.origin ? { origin: b.origin } : {}) };
  return fc.oneof(policyArb.map((p) => ({ ...p, url: bound })), policyArb);
}

const caseArb = recordArb
  .chain((record) => fitting(record).map((policy) => [record, policy] as const))
  .chain(([record, policy]) => nowArb(record, policy).map((now) => [record, policy, now] as const));

describe('consume filter and update pipeline vs evaluateConsume', () => {
  // 1,000 sequential round trips: a remote replica set (or the stand-in's, copying to its
  // secondaries) needs more than the default 30 s
  it('agree on acceptance, the record written, and purgeAt', { timeout: 180_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ([record, policy, now]) => {
        await coll.insertOne(toDocument(record), { ignoreUndefined: true });
        const expected = evaluateConsume(record, now.getTime(), policy);
        const doc = await coll.findOneAndUpdate(consumeFilter(record.hash, now, policy), consumeUpdate(now, policy), { returnDocument: 'after' });
        expect(doc !== null).toBe(expected.ok);
        if (doc && expected.ok) {
          expect(fromDocument(doc)).toEqual(expected.record);
          const purge = purgeAt(expected.record);
          expect(doc.purgeAt).toEqual(purge === undefined ? undefined : new Date(purge));
          expect(doc.usedUp).toBe(isUsedUp(expected.record) ? true : undefined);
        } else {
          expect(fromDocument((await coll.findOne({ hash: record.hash }))!)).toEqual(record); // refused: untouched
        }
      }),
      { numRuns: 1000 },
    );
  });
});

const patchArb: fc.Arbitrary<RecordPatch> = fc.record(
  {
    name: fc.constantFrom('renamed', '$name', '$$REMOVE'),
    scopes: subset(['$x', ...SCOPES]),
    expiresAt: fc.option(fc.integer({ min: -HOUR, max: 2 * HOUR }).map((ms) => new Date(T0 + ms))),
    idleTimeout: fc.option(fc.integer({ min: 1, max: 2 * HOUR })),
    maxUses: fc.option(fc.integer({ min: 0, max: 5 })),
    metadata: fc.option(fc.constantFrom<Record<string, JsonValue>>({ a: 1 }, { '$b.c': ['$d'] })),
    disabledAt: fc.option(fc.constant(new Date(T0 + MIN))),
    refill: fc.option(fc.constantFrom(7 * MIN, HOUR).map((every) => ({ every }))),
    rateLimit: fc.option(fc.record({ limit: fc.integer({ min: 1, max: 5 }), window: fc.constantFrom(MIN, 366 * 24 * HOUR) })),
  },
  { requiredKeys: [] },
);

describe('update pipeline vs applyPatch', () => {
  it('leaves exactly the patched record, with purgeAt and usedUp recomputed ($-strings stay strings)', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(recordArb, patchArb, async (record, patch) => {
        await coll.insertOne(toDocument(record), { ignoreUndefined: true });
        const expected = applyPatch(record, patch);
        const doc = await coll.findOneAndUpdate({ _id: record.id }, patchUpdate(patch), { returnDocument: 'after' });
        expect(fromDocument(doc!)).toEqual(expected);
        const purge = purgeAt(expected);
        expect(doc!.purgeAt).toEqual(purge === undefined ? undefined : new Date(purge));
        expect(doc!.usedUp).toBe(isUsedUp(expected) ? true : undefined);
      }),
      { numRuns: 300 },
    );
  });
});
