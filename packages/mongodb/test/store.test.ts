import { createTokenAccess } from '@tokenaccess/core';
import { DuplicateTokenError, TOMBSTONE_MS } from '@tokenaccess/core/store';
import { mongoStore, type MongoStoreOptions, type MongoTokenStore } from '@tokenaccess/mongodb';
import { duplicateField } from '../src/errors';
import { createMongoStore } from '../src/store';
import { at, plain, record, urlRecord } from '@tokenaccess/test-suite';
import type { CommandStartedEvent } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { failPoint, randomName, useClient } from './helpers';

const { client, db } = useClient({ monitorCommands: true, appName: 'store-test', retryReads: false, retryWrites: false });

const stores: MongoTokenStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.collection.drop();
});

async function freshStore(options: Omit<MongoStoreOptions, 'db' | 'collection'> = {}): Promise<MongoTokenStore> {
  const store = mongoStore({ ...options, db, collection: randomName() });
  await store.ensureIndexes();
  stores.push(store);
  return store;
}

/** The commands `fn` sends to the store's collection, by name. */
async function commandsOf(store: MongoTokenStore, fn: () => Promise<unknown>): Promise<string[]> {
  return (await sentBy(store, fn)).map((e) => e.commandName);
}

/** The commands `fn` sends to the store's collection, as the driver sent them. */
async function sentBy(store: MongoTokenStore, fn: () => Promise<unknown>): Promise<CommandStartedEvent[]> {
  const seen: CommandStartedEvent[] = [];
  const listener = (e: CommandStartedEvent) => {
    if (e.command[e.commandName] === store.collection.collectionName) seen.push(e);
  };
  client.on('commandStarted', listener);
  try {
    await fn();
  } finally {
    client.off('commandStarted', listener);
  }
  return seen;
}

describe('indexes', () => {
  it('creates unique hash, subject/id, parentId/id and kind/id listing, a TTL index on purgeAt and a sparse one on usedUp; idempotently', async () => {
    const store = await freshStore();
    await store.ensureIndexes();
    const byName = new Map((await store.collection.indexes()).map((i) => [i.name, i]));
    expect(byName.get('_id_')?.key).toEqual({ _id: 1 });
    expect(byName.get('tokenaccess_hash')).toMatchObject({ key: { hash: 1 }, unique: true });
    expect(byName.get('tokenaccess_subject_id')).toMatchObject({ key: { subject: 1, _id: 1 } });
    expect(byName.get('tokenaccess_parent_id')).toMatchObject({ key: { parentId: 1, _id: 1 }, partialFilterExpression: { parentId: { $exists: true } } });
    expect(byName.get('tokenaccess_kind_id')).toMatchObject({ key: { kind: 1, _id: 1 } });
    expect(byName.get('tokenaccess_purge_ttl')).toMatchObject({ key: { purgeAt: 1 }, expireAfterSeconds: 0 });
    expect(byName.get('tokenaccess_used_up')).toMatchObject({ key: { usedUp: 1 }, sparse: true });
    expect(byName.size).toBe(7);
  });
});

describe('documents', () => {
  it('stores the id as _id, metadata as JSON text, no nulls, and purgeAt = the earliest deadline', async () => {
    const store = await freshStore();
    const r = record({ expiresAt: at(3_600_000), idleTimeout: 60_000, metadata: { 'a.b': { $c: [1] } } });
    await store.insert(r);
    const doc = await store.collection.findOne({ hash: r.hash });
    expect(doc?._id).toBe(r.id);
    expect(doc).not.toHaveProperty('id');
    expect(doc?.metadata).toBe(JSON.stringify(r.metadata));
    expect(doc?.purgeAt).toEqual(new Date(r.createdAt.getTime() + 60_000));
    expect(Object.values(doc!).some((v) => v === null)).toBe(false);
    for (const k of ['lastUsedAt', 'maxUses', 'url']) expect(doc).not.toHaveProperty(k);
  });

  it('stores a field set to undefined as absent, never null, nested ones included', async () => {
    const store = await freshStore();
    const r = urlRecord('/x');
    const loose = { ...r, lastUsedAt: undefined, metadata: undefined, url: { ...r.url!, origin: undefined } } as unknown as typeof r;
    await store.insert(loose);
    const doc = await store.collection.findOne({ hash: r.hash });
    expect(doc).not.toHaveProperty('lastUsedAt');
    expect(doc).not.toHaveProperty('metadata');
    expect(doc?.url).not.toHaveProperty('origin');
    expect(await store.findByHash(r.hash)).toEqual({ ...r, url: { url: r.url!.url, canonical: r.url!.canonical, methods: r.url!.methods } });
  });

  it('moves purgeAt with the idle deadline on a touch', async () => {
    const store = await freshStore();
    const idle = record({ idleTimeout: 60_000 });
    await store.insert(idle);
    const t = at(30_000);
    expect((await store.consume(idle.hash, t, plain({ lastUsedResolution: 0 }))).ok).toBe(true);
    expect((await store.collection.findOne({ hash: idle.hash }))?.purgeAt).toEqual(new Date(t.getTime() + 60_000));
  });

  // The TTL index removes a document at purgeAt. A used-up token must outlive its last use, or a
  // real MongoDB (whose TTL monitor runs every minute) turns `exhausted` into `not_found`.
  it('keeps a used-up token for the TTL: until its deadline, or 30 days after its last use', async () => {
    const store = await freshStore();
    const doc = (hash: string) => store.collection.findOne({ hash });
    const link = { url: { canonical: '/once', method: 'GET' } };

    const once = urlRecord('/once', { maxUses: 1 });
    await store.insert(once);
    expect(await doc(once.hash)).not.toHaveProperty('purgeAt');
    expect(await doc(once.hash)).not.toHaveProperty('usedUp');
    const u = at(5);
    expect((await store.consume(once.hash, u, plain(link))).ok).toBe(true);
    expect(TOMBSTONE_MS).toBe(30 * 86_400_000);
    expect((await doc(once.hash))?.purgeAt).toEqual(new Date(u.getTime() + TOMBSTONE_MS));
    expect((await doc(once.hash))?.usedUp).toBe(true);
    expect(await store.consume(once.hash, at(10), plain(link))).toMatchObject({ ok: false, reason: 'exhausted' });

    const dated = urlRecord('/once', { maxUses: 1, expiresAt: at(7 * 86_400_000) });
    await store.insert(dated);
    expect((await store.consume(dated.hash, u, plain(link))).ok).toBe(true);
    expect((await doc(dated.hash))?.purgeAt).toEqual(dated.expiresAt);

    const stored = record({ maxUses: 2, uses: 2, createdAt: at(-2 * 86_400_000), lastUsedAt: at(-86_400_000) });
    await store.insert(stored);
    expect((await doc(stored.hash))?.purgeAt).toEqual(new Date(stored.lastUsedAt!.getTime() + TOMBSTONE_MS));
    expect((await doc(stored.hash))?.usedUp).toBe(true);

    // sweep deletes all three at once, whatever their purgeAt
    expect(await store.sweep(at(1000))).toBe(3);
    expect(await store.collection.find({}).toArray()).toEqual([]);
  });

  it('turns E11000 into DuplicateTokenError naming the field, with the driver error as cause', async () => {
    const store = await freshStore();
    const r = record();
    await store.insert(r);
    const byHash = await store.insert(record({ hash: r.hash })).catch((e: unknown) => e);
    const byId = await store.insert(record({ id: r.id })).catch((e: unknown) => e);
    expect(byHash).toBeInstanceOf(DuplicateTokenError);
    expect((byHash as Error).message).toBe('[tokenaccess] [mongodb] a token with this hash already exists');
    expect((byId as Error).message).toBe('[tokenaccess] [mongodb] a token with this id already exists');
    expect((byHash as { cause: { code: number; keyPattern: object } }).cause).toMatchObject({ code: 11000, keyPattern: { hash: 1 } });
  });

  it('names the key of an E11000 without keyPattern from the index in errmsg, else says "hash or id"', async (ctx) => {
    const e11000 = (index: string) => ({ errmsg: `E11000 duplicate key error collection: db.tokens index: ${index} dup key: { x: "1" }` });
    expect(duplicateField(e11000('_id_'))).toBe('id');
    expect(duplicateField(e11000('tokenaccess_hash'))).toBe('hash');
    expect(duplicateField(e11000('some_other_unique'))).toBe('hash or id');
    expect(duplicateField({})).toBe('hash or id');
    expect(duplicateField({ keyPattern: { _id: 1 }, errmsg: 'index: tokenaccess_hash dup key' })).toBe('id'); // keyPattern first
    // through the wire: an E11000 that names no index and has no keyPattern (failCommand)
    const store = await freshStore();
    if (!(await failPoint(client, { times: 1 }, { failCommands: ['insert'], errorCode: 11000, appName: 'store-test' }))) return ctx.skip('the server has no test commands (enableTestCommands)');
    const err = await store.insert(record()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateTokenError);
    expect((err as Error).message).toBe('[tokenaccess] [mongodb] a token with this hash or id already exists');
  });

  it('a refilling token used up for this period gets neither usedUp nor a tombstone purgeAt; stopping its refill gives it both', async () => {
    const store = await freshStore();
    const last = at(-1000);
    const r = record({ maxUses: 2, uses: 2, lastUsedAt: last, refill: { every: 3_600_000 } });
    await store.insert(r);
    const doc = () => store.collection.findOne({ _id: r.id });
    expect(await doc()).toMatchObject({ refill: { every: 3_600_000 }, uses: 2 });
    expect(await doc()).not.toHaveProperty('usedUp');
    expect(await doc()).not.toHaveProperty('purgeAt');
    expect(await store.sweep(at())).toBe(0);
    expect(await store.update!(r.id, { refill: null, disabledAt: last })).toMatchObject({ disabledAt: last });
    expect(await doc()).toMatchObject({ usedUp: true, purgeAt: new Date(last.getTime() + TOMBSTONE_MS), disabledAt: last });
    expect(await doc()).not.toHaveProperty('refill');
    expect(await store.update!(r.id, { refill: { every: 60_000 }, disabledAt: null })).not.toHaveProperty('disabledAt');
    expect(await doc()).not.toHaveProperty('usedUp');
    expect(await doc()).not.toHaveProperty('disabledAt');
  });

  it('stores rateLimit as { limit, window } only and rateCount as a number; update: null removes the limit and keeps the count', async () => {
    const store = await freshStore();
    const year = 366 * 86_400_000; // beyond int32: stored as a double, read back exactly
    const r = record({ rateLimit: { limit: 2, window: year, extra: 1 } as never });
    await store.insert(r);
    const doc = () => store.collection.findOne({ _id: r.id });
    expect((await doc())?.rateLimit).toEqual({ limit: 2, window: year });
    expect(await doc()).not.toHaveProperty('rateCount');
    const t = at(1000);
    expect(await store.consume(r.hash, t, plain({ lastUsedResolution: 86_400_000 }))).toMatchObject({ ok: true, record: { rateCount: 1, lastUsedAt: t } });
    expect(await doc()).toMatchObject({ rateCount: 1, lastUsedAt: t });
    expect(await doc()).not.toHaveProperty('purgeAt'); // a rate limit is no deadline
    await store.update!(r.id, { rateLimit: { limit: 5, window: 60_000, extra: 2 } as never });
    expect(await doc()).toMatchObject({ rateLimit: { limit: 5, window: 60_000 }, rateCount: 1 });
    expect((await doc())?.rateLimit).toEqual({ limit: 5, window: 60_000 });
    await store.update!(r.id, { rateLimit: null });
    expect(await doc()).not.toHaveProperty('rateLimit');
    expect((await doc())?.rateCount).toBe(1);
    // without a limit the count is left alone, and lastUsedAt is touched only when stale again
    expect(await store.consume(r.hash, at(2000), plain({ lastUsedResolution: 86_400_000 }))).toMatchObject({ ok: true, record: { rateCount: 1, lastUsedAt: t } });
    expect(await doc()).toMatchObject({ rateCount: 1, lastUsedAt: t });
  });

  it('refuses a disabled token from the read and from the atomic step alike, writing nothing', async () => {
    const store = await freshStore();
    const r = record({ maxUses: 5, disabledAt: at(-1) });
    await store.insert(r);
    expect(await commandsOf(store, async () => expect(await store.consume(r.hash, at(), plain())).toMatchObject({ ok: false, reason: 'disabled' }))).toEqual(['find']);
    // the atomic step alone (what runs when the read raced an update): its filter refuses too
    const atomic = createMongoStore({ db, collection: store.collection.collectionName }, { readFirst: false });
    expect(await commandsOf(store, async () => expect(await atomic.consume(r.hash, at(), plain())).toMatchObject({ ok: false, reason: 'disabled' }))).toEqual(['findAndModify', 'find']);
    expect((await store.findById(r.id))?.uses).toBe(0);
  });
});

describe('consume round trips', () => {
  it('serves an unlimited token with a fresh lastUsedAt from one find, with no write', async () => {
    const store = await freshStore();
    const r = record();
    await store.insert(r);
    expect(await commandsOf(store, () => store.consume(r.hash, at(), plain()))).toEqual(['find', 'findAndModify']); // touches lastUsedAt
    expect(await commandsOf(store, () => store.consume(r.hash, at(1000), plain()))).toEqual(['find']);
  });

  it('counts a limited token with one findAndModify after the read, and refuses from the read alone', async () => {
    const store = await freshStore();
    const r = record({ maxUses: 1, scopes: ['a'] });
    await store.insert(r);
    expect(await commandsOf(store, () => store.consume(r.hash, at(), plain({ scopes: { mode: 'all', anyOf: [['b']] } })))).toEqual(['find']);
    expect(await commandsOf(store, () => store.consume(r.hash, at(), plain()))).toEqual(['find', 'findAndModify']);
    expect(await commandsOf(store, () => store.consume(r.hash, at(), plain()))).toEqual(['find']);
  });

  it('verifies a rate-limited token with one findAndModify after the read each time, and refuses a full window from the read alone', async () => {
    const store = await freshStore();
    const r = record({ rateLimit: { limit: 2, window: 3_600_000 } });
    await store.insert(r);
    const p = plain({ lastUsedResolution: 86_400_000 });
    expect(await commandsOf(store, () => store.consume(r.hash, at(), p))).toEqual(['find', 'findAndModify']);
    // lastUsedAt is fresh, but the verification must still be counted
    expect(await commandsOf(store, () => store.consume(r.hash, at(1), p))).toEqual(['find', 'findAndModify']);
    expect(await commandsOf(store, async () => expect(await store.consume(r.hash, at(2), p)).toMatchObject({ ok: false, reason: 'rate_limited' }))).toEqual(['find']);
    // the atomic step alone (what runs when the read raced another verify): its filter refuses too
    const atomic = createMongoStore({ db, collection: store.collection.collectionName }, { readFirst: false });
    expect(await commandsOf(store, async () => expect(await atomic.consume(r.hash, at(3), p)).toMatchObject({ ok: false, reason: 'rate_limited', record: { rateCount: 2 } }))).toEqual(['findAndModify', 'find']);
    expect(await store.collection.findOne({ _id: r.id })).toMatchObject({ rateCount: 2 });
  });
});

describe('update', () => {
  it('is one findAndModify, addressed by id and the hash (the shard key) a projected find looked up', async () => {
    const store = await freshStore();
    const r = record({ maxUses: 2, uses: 2, lastUsedAt: at(-1000) });
    await store.insert(r);
    expect(await commandsOf(store, () => store.update!(r.id, { maxUses: 3, name: '$renamed' }))).toEqual(['find', 'findAndModify']);
    const doc = await store.collection.findOne({ _id: r.id });
    expect(doc).toMatchObject({ name: '$renamed', maxUses: 3 });
    expect(doc).not.toHaveProperty('usedUp'); // revived: sweep no longer takes it
    expect(doc).not.toHaveProperty('purgeAt');
    expect(await commandsOf(store, () => store.update!(record().id, { name: 'x' }))).toEqual(['find']);
  });
});

describe('behind createTokenAccess', () => {
  it('200 parallel verifies of a maxUses 10 token: exactly 10 succeed', async () => {
    // counting, not deadlines (fault.test.ts has those): a loaded machine may take over 2 s
    const store = await freshStore({ timeout: 30_000 });
    const tokens = createTokenAccess({ store, timeout: 30_000 });
    const { token } = await tokens.issue({ subject: 'user-1', name: 'ci', maxUses: 10 });
    const results = await Promise.all(Array.from({ length: 200 }, () => tokens.verify(token)));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    for (const r of results) if (!r.ok) expect(r.error.code).toBe('exhausted');
    expect((await tokens.list({ subject: 'user-1' })).items[0]?.uses).toBe(10);
  });
});

describe('maxTimeMS', () => {
  it('every command of every store call carries maxTimeMS = the store timeout; none with timeout 0', async () => {
    const all = async (store: MongoTokenStore) =>
      sentBy(store, async () => {
        const r = record({ maxUses: 3 });
        await store.insert(r);
        await store.findByHash(r.hash);
        await store.findById(r.id);
        await store.consume(r.hash, at(), plain());
        await store.consume(r.hash, at(), plain({ scopes: { mode: 'all', anyOf: [['nope']] } }));
        await store.list({ subject: r.subject!, limit: 10 });
        await store.update!(r.id, { name: 'x' });
        await store.sweep(at());
        await store.deleteById(r.id);
        await store.deleteByHash(r.hash);
        await store.deleteBySubject('nobody');
      });
    const bounded = await all(await freshStore({ timeout: 1234 }));
    expect(new Set(bounded.map((e) => e.commandName))).toEqual(new Set(['insert', 'find', 'findAndModify', 'delete']));
    for (const e of bounded) expect([e.commandName, e.command.maxTimeMS]).toEqual([e.commandName, 1234]);
    const unbounded = await all(await freshStore({ timeout: 0 }));
    for (const e of unbounded) expect([e.commandName, e.command.maxTimeMS]).toEqual([e.commandName, undefined]);
  });
});

describe('sweep', () => {
  it('resumes after a batch fails on its deadline: the batches before it stay done, and sweep again finishes', async (ctx) => {
    const store = await freshStore({ timeout: 300 });
    // used up for good (their purgeAt, a tombstone, lies 30 days ahead: the TTL monitor leaves them to sweep)
    const dead = Array.from({ length: 5 }, () => record({ maxUses: 1, uses: 1, lastUsedAt: at(-5) }));
    const live = [record(), record({ maxUses: 1, uses: 1, lastUsedAt: at(-5), refill: { every: 3_600_000 } })];
    for (const r of [...dead, ...live]) await store.insert(r);
    // the second batch's delete hangs (blocked by the server) past the store's 300 ms
    if (!(await failPoint(client, { skip: 1 }, { failCommands: ['delete'], blockConnection: true, blockTimeMS: 1000, appName: 'store-test' }))) {
      return ctx.skip('the server has no test commands (enableTestCommands)');
    }
    const progress: number[] = [];
    try {
      const err = await store.sweep(at(), { batchSize: 2, onProgress: (n) => progress.push(n) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'unavailable', message: '[tokenaccess] [mongodb] sweep batch 2 (2 deleted before it; sweep again resumes) failed: no answer within 300 ms' });
      expect(progress).toEqual([2]);
    } finally {
      await failPoint(client, 'off');
    }
    const again = await store.sweep(at(), { batchSize: 2 });
    expect(again).toBeGreaterThanOrEqual(1); // what the abandoned batch did not delete
    expect(again).toBeLessThanOrEqual(3);
    expect((await store.collection.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id).sort()).toEqual(live.map((r) => r.id).sort());
  });
});

describe('options', () => {
  it('timeout is a Duration, like every timeout option of tokenaccess; the default is 2 s', () => {
    expect(mongoStore({ db, collection: randomName(), timeout: '1s' }).callTimeout).toBe(1000);
    expect(mongoStore({ db, collection: randomName() }).callTimeout).toBe(2000);
    expect(() => mongoStore({ db, collection: randomName(), timeout: 'soon' as never })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
