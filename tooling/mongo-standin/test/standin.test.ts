import net from 'node:net';
import { MongoClient, MongoServerError, ServerApiVersion, type Collection, type Document } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMongoStandin, type MongoStandin } from '../src/index';

let server: MongoStandin;
let client: MongoClient;
let coll: Collection<Document>;
let n = 0;

beforeAll(async () => {
  server = await startMongoStandin();
  client = new MongoClient(server.url, { serverSelectionTimeoutMS: 2000 });
});
afterAll(async () => {
  await client.close();
  await server.close();
});
beforeEach(() => {
  coll = client.db('standin').collection(`c${n++}`);
});

const serverError = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as MongoServerError);

describe('handshake and admin commands', () => {
  it('answers the legacy OP_QUERY handshake and OP_MSG hello (Stable API clients send hello over OP_MSG)', async () => {
    expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
    const apiClient = new MongoClient(server.url, { serverApi: ServerApiVersion.v1, serverSelectionTimeoutMS: 2000 });
    try {
      const hello = await apiClient.db('admin').command({ hello: 1 });
      expect(hello).toMatchObject({ isWritablePrimary: true, helloOk: true, maxWireVersion: 21, ok: 1 });
    } finally {
      await apiClient.close();
    }
    const legacy = await client.db('admin').command({ isMaster: 1 });
    expect(legacy).toMatchObject({ ismaster: true, ok: 1 });
  });

  it('reports a MongoDB 7.0 buildInfo', async () => {
    expect(await client.db('admin').command({ buildInfo: 1 })).toMatchObject({ version: '7.0.0', versionArray: [7, 0, 0, 0], ok: 1 });
  });

  it('answers an unknown command with CommandNotFound (59)', async () => {
    const err = await serverError(client.db('admin').command({ frobnicate: 1 }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });

  it('drops a connection that sends an op code it does not speak', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    const header = Buffer.alloc(16);
    header.writeInt32LE(16, 0);
    header.writeInt32LE(2002, 12); // OP_INSERT, removed from MongoDB in 6.0
    const closed = new Promise<boolean>((resolve) => socket.on('close', () => resolve(true)));
    socket.on('error', () => {});
    socket.write(header);
    expect(await closed).toBe(true);
  });
});

describe('documents', () => {
  it('inserts, finds with filter, sort, skip, limit and projection', async () => {
    await coll.insertMany([{ _id: 'b', n: 2, tag: 'x' }, { _id: 'a', n: 1, tag: 'x' }, { _id: 'c', n: 3, tag: 'y' }] as Document[]);
    expect(await coll.find({ tag: 'x' }).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'a', n: 1, tag: 'x' }, { _id: 'b', n: 2, tag: 'x' }]);
    expect(await coll.find({}, { projection: { n: 1 } }).sort({ n: -1 }).skip(1).limit(1).toArray()).toEqual([{ _id: 'b', n: 2 }]);
    expect(await coll.findOne({ _id: 'zz' } as Document)).toBeNull();
  });

  it('generates an ObjectId _id when the document has none', async () => {
    const { insertedId } = await coll.insertOne({ a: 1 });
    expect((await coll.findOne({ _id: insertedId }))?.a).toBe(1);
  });

  it('pages a large result with getMore, and kills an abandoned cursor', async () => {
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    expect((await coll.find({}).toArray()).map((d) => d.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const db = client.db('standin');
    const first = await db.command({ find: coll.collectionName, filter: {}, batchSize: 10 });
    expect(first.cursor.firstBatch).toHaveLength(10);
    const id = first.cursor.id;
    expect(Number(id)).toBeGreaterThan(0);
    const next = await db.command({ getMore: id, collection: coll.collectionName, batchSize: 5 });
    expect(next.cursor.nextBatch.map((d: Document) => d.i)).toEqual([10, 11, 12, 13, 14]);
    expect(await db.command({ killCursors: coll.collectionName, cursors: [id] })).toMatchObject({ cursorsKilled: [id], ok: 1 });
    expect(await serverError(db.command({ getMore: id, collection: coll.collectionName }))).toMatchObject({ code: 43, codeName: 'CursorNotFound' });
  });

  it('updates one or many with operators, and counts modified documents', async () => {
    await coll.insertMany([{ k: 1, v: 0 }, { k: 1, v: 0 }, { k: 2, v: 0 }]);
    expect(await coll.updateOne({ k: 1 }, { $inc: { v: 1 } })).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await coll.updateMany({ k: 1 }, { $set: { v: 1 } })).toMatchObject({ matchedCount: 2, modifiedCount: 1 });
    expect((await coll.find({ v: 1 }).toArray()).length).toBe(2);
  });

  it('deletes one or many', async () => {
    await coll.insertMany([{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }]);
    expect((await coll.deleteOne({ k: 1 })).deletedCount).toBe(1);
    expect((await coll.deleteMany({ k: 1 })).deletedCount).toBe(2);
    expect((await coll.find({}).toArray()).map((d) => d.k)).toEqual([2]);
  });

  it('refuses an update that changes _id (ImmutableField, 66)', async () => {
    await coll.insertOne({ _id: 'x' } as Document);
    expect(await serverError(coll.findOneAndUpdate({ _id: 'x' } as Document, { $set: { _id: 'y' } }))).toMatchObject({ code: 66 });
  });

  it('refuses upserts, which it does not implement', async () => {
    expect(await serverError(coll.findOneAndUpdate({ a: 1 }, { $set: { b: 1 } }, { upsert: true }))).toMatchObject({ code: 2, codeName: 'BadValue' });
  });
});

describe('findAndModify', () => {
  it('applies an update document or pipeline, returning the document before or after, projected', async () => {
    await coll.insertOne({ _id: 'x', n: 1, lastAt: null } as Document);
    const before = await coll.findOneAndUpdate({ _id: 'x' } as Document, { $inc: { n: 1 } }, { projection: { n: 1 } });
    expect(before).toEqual({ _id: 'x', n: 1 });
    const now = new Date();
    const after = await coll.findOneAndUpdate(
      { _id: 'x', n: { $lt: 10 } } as Document,
      [{ $set: { n: { $add: ['$n', 10] }, lastAt: { $cond: [{ $eq: ['$lastAt', null] }, now, '$lastAt'] } } }],
      { returnDocument: 'after' },
    );
    expect(after).toEqual({ _id: 'x', n: 12, lastAt: now });
    expect(await coll.findOneAndUpdate({ _id: 'x', n: { $lt: 10 } } as Document, { $inc: { n: 1 } })).toBeNull();
  });

  it('takes the first match in sort order, and removes when asked', async () => {
    await coll.insertMany([{ p: 2 }, { p: 1 }, { p: 3 }]);
    expect((await coll.findOneAndDelete({}, { sort: { p: 1 } }))?.p).toBe(1);
    expect((await coll.findOneAndUpdate({}, { $set: { top: true } }, { sort: { p: -1 }, returnDocument: 'after' }))?.p).toBe(3);
    expect((await coll.find({}).toArray()).length).toBe(2);
  });

  it('is atomic: 200 parallel conditional increments stop at the limit exactly', async () => {
    await coll.insertOne({ _id: 'c', uses: 0 } as Document);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => coll.findOneAndUpdate({ _id: 'c', uses: { $lt: 10 } } as Document, { $inc: { uses: 1 } }, { returnDocument: 'after' })),
    );
    expect(results.filter(Boolean).map((d) => d!.uses).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('indexes', () => {
  it('creates indexes idempotently, lists them, and refuses a conflicting definition', async () => {
    await coll.createIndex({ h: 1 }, { name: 'h', unique: true });
    await coll.createIndex({ h: 1 }, { name: 'h', unique: true });
    await coll.createIndex({ at: 1 }, { name: 'ttl', expireAfterSeconds: 0 });
    expect(await coll.indexes()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { h: 1 }, name: 'h', unique: true },
      { v: 2, key: { at: 1 }, name: 'ttl', expireAfterSeconds: 0 },
    ]);
    expect(await serverError(coll.createIndex({ h: 1 }, { name: 'h' }))).toMatchObject({ code: 85 });
    expect(await serverError(coll.createIndex({ other: 1 }, { name: 'h' }))).toMatchObject({ code: 86 });
  });

  it('answers listIndexes on a missing collection with NamespaceNotFound (26)', async () => {
    expect(await serverError(coll.indexes())).toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
  });

  it('raises E11000 with MongoDB shapes: writeError on insert, command error on findAndModify', async () => {
    await coll.createIndex({ h: 1 }, { unique: true });
    await coll.insertMany([{ _id: 1, h: 'a' }, { _id: 2, h: 'b' }] as Document[]);
    const onInsert = await serverError(coll.insertOne({ _id: 3, h: 'a' } as Document));
    expect(onInsert).toMatchObject({
      code: 11000,
      keyPattern: { h: 1 },
      keyValue: { h: 'a' },
      errmsg: `E11000 duplicate key error collection: standin.${coll.collectionName} index: h_1 dup key: { h: "a" }`,
    });
    const onId = await serverError(coll.insertOne({ _id: 1, h: 'z' } as Document));
    expect(onId).toMatchObject({ code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 1 } });
    const onUpdate = await serverError(coll.findOneAndUpdate({ _id: 2 } as Document, { $set: { h: 'a' } }));
    expect(onUpdate).toMatchObject({ code: 11000, codeName: 'DuplicateKey', keyPattern: { h: 1 }, keyValue: { h: 'a' } });
    expect((await coll.findOne({ _id: 2 } as Document))?.h).toBe('b');
  });

  it('treats a missing field as null in a unique index, except for partial indexes', async () => {
    await coll.createIndex({ u: 1 }, { unique: true });
    await coll.createIndex({ p: 1 }, { unique: true, partialFilterExpression: { p: { $exists: true } } });
    await coll.insertOne({ a: 1 });
    expect(await serverError(coll.insertOne({ a: 2 }))).toMatchObject({ code: 11000, keyValue: { u: null } });
  });

  it('refuses a unique index over existing duplicates', async () => {
    await coll.insertMany([{ d: 1 }, { d: 1 }]);
    expect(await serverError(coll.createIndex({ d: 1 }, { unique: true }))).toMatchObject({ code: 11000 });
  });
});

describe('drop', () => {
  it('drops a collection and a database', async () => {
    await coll.insertOne({ a: 1 });
    expect(await coll.drop()).toBe(true);
    expect(await coll.findOne({})).toBeNull();
    const other = client.db('standin_drop');
    await other.collection('x').insertOne({ a: 1 });
    expect(await other.dropDatabase()).toBe(true);
    expect(await other.collection('x').findOne({})).toBeNull();
  });
});

describe('simple update operators', () => {
  it('applies $set, $inc and $unset on nested paths, creating what is missing', async () => {
    await coll.insertOne({ _id: 'u', a: { b: 1 }, n: 1, gone: true } as Document);
    const after = await coll.findOneAndUpdate(
      { _id: 'u' } as Document,
      { $set: { 'a.c': 'x', 'd.e': 2 }, $inc: { n: 2, m: 5 }, $unset: { gone: '', 'no.such': '' } },
      { returnDocument: 'after' },
    );
    expect(after).toEqual({ _id: 'u', a: { b: 1, c: 'x' }, n: 3, d: { e: 2 }, m: 5 });
  });

  it('refuses $inc on a non-number (TypeMismatch, 14)', async () => {
    await coll.insertOne({ _id: 's', v: 'text' } as Document);
    expect(await serverError(coll.updateOne({ _id: 's' } as Document, { $inc: { v: 1 } }))).toMatchObject({ code: 14 });
  });
});
