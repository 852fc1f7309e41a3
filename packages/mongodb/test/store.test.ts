import { createTokenAccess } from '@tokenaccess/core';
import { DuplicateTokenError, TOMBSTONE_MS } from '@tokenaccess/core/store';
import { mongoStore, type MongoStoreOptions, type MongoTokenStore } from '@tokenaccess/mongodb';
import { at, plain, record, urlRecord } from '@tokenaccess/test-suite';
import type { CommandStartedEvent } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { randomName, useClient } from './helpers';

const { client, db } = useClient({ monitorCommands: true });

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
  const seen: string[] = [];
  const listener = (e: CommandStartedEvent) => {
    if (e.command[e.commandName] === store.collection.collectionName) seen.push(e.commandName);
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

describe('options', () => {
  it('timeout is a Duration, like every timeout option of tokenaccess; the default is 2 s', () => {
    expect(mongoStore({ db, collection: randomName(), timeout: '1s' }).callTimeout).toBe(1000);
    expect(mongoStore({ db, collection: randomName() }).callTimeout).toBe(2000);
    expect(() => mongoStore({ db, collection: randomName(), timeout: 'soon' as never })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
