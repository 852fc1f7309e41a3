import { MongoClient, MongoServerError, type Document, type ServerHeartbeatSucceededEvent } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startMongoStandin, startStallProxy, type MongoStandin, type MongoStandinOptions, type SeenCommand } from '../src/index';

/**
 * What the stand-in does so that it cannot flatter the store: it monitors like a 4.4+ server,
 * refuses what MongoDB refuses in an update pipeline, expires TTL documents, fails commands on
 * request as MongoDB's `failCommand` fail point does, and plays a replica set with a lagging
 * secondary or a mongos. Everything through the official driver.
 */
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function start(options: MongoStandinOptions = {}, clientOptions: ConstructorParameters<typeof MongoClient>[1] = {}, url?: (s: MongoStandin) => string) {
  const server = await startMongoStandin(options);
  open.push(server);
  const client = new MongoClient(url ? url(server) : server.url, { serverSelectionTimeoutMS: 2000, ...clientOptions });
  open.push({ close: () => client.close(true) });
  return { server, client };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const serverError = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as MongoServerError);

describe('hello as a 4.4+ server answers it', () => {
  it('carries topologyVersion { processId: ObjectId, counter: int64 }, so the driver streams heartbeats', async () => {
    const { server, client } = await start({}, { heartbeatFrequencyMS: 300 });
    const seen: SeenCommand[] = [];
    server.onCommand((c) => seen.push(c));
    const beats: ServerHeartbeatSucceededEvent[] = [];
    client.on('serverHeartbeatSucceeded', (e) => beats.push(e));
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello.topologyVersion.processId._bsontype).toBe('ObjectId');
    expect(hello.topologyVersion.counter._bsontype ?? typeof hello.topologyVersion.counter).toMatch(/^(Long|number)$/);
    const awaitable = () => seen.some((c) => c.command.hello !== undefined && c.command.maxAwaitTimeMS === 300 && c.command.topologyVersion !== undefined);
    for (let i = 0; i < 40 && !(awaitable() && beats.filter((b) => b.awaited).length >= 2); i++) await sleep(100);
    // the monitor sent hello with topologyVersion and maxAwaitTimeMS, and a streamed reply came back
    expect(awaitable()).toBe(true);
    expect(beats.filter((b) => b.awaited).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps streaming: several awaited heartbeats on the one monitoring connection, none failed', async () => {
    const { client } = await start({}, { heartbeatFrequencyMS: 200 });
    let awaited = 0;
    let failed = 0;
    client.on('serverHeartbeatSucceeded', (e) => void (e.awaited && awaited++));
    client.on('serverHeartbeatFailed', () => void failed++);
    await client.db('admin').command({ ping: 1 });
    for (let i = 0; i < 50 && awaited < 3; i++) await sleep(100);
    expect(awaited).toBeGreaterThanOrEqual(3);
    expect(failed).toBe(0);
  });
});

describe('update pipelines: only the stages MongoDB runs in an update', () => {
  it('runs $set/$addFields, $project/$unset, $replaceRoot/$replaceWith', async () => {
    const { client } = await start();
    const coll = client.db('t').collection('c');
    await coll.insertOne({ _id: 1 as never, a: 1, b: 2 });
    const after = await coll.findOneAndUpdate(
      { _id: 1 as never },
      [{ $set: { c: 3 } }, { $addFields: { d: 4 } }, { $unset: 'b' }, { $project: { a: 1, c: 1, d: 1 } }, { $replaceWith: { $mergeObjects: ['$$ROOT', { e: 5 }] } }, { $replaceRoot: { newRoot: '$$ROOT' } }],
      { returnDocument: 'after' },
    );
    expect(after).toEqual({ _id: 1, a: 1, c: 3, d: 4, e: 5 });
  });

  it('refuses any other stage as MongoDB does: 72 InvalidOptions "<stage> is not allowed to be used within an update"', async () => {
    const { client } = await start();
    const coll = client.db('t').collection<Document>('c');
    await coll.insertOne({ _id: 1 as never, a: 1 });
    for (const stage of [{ $match: { a: 1 } }, { $sort: { a: 1 } }, { $group: { _id: null } }, { $lookup: { from: 'x', as: 'y', pipeline: [] } }, { $limit: 1 }]) {
      const name = Object.keys(stage)[0];
      const err = await serverError(coll.findOneAndUpdate({ _id: 1 as never }, [{ $set: { b: 1 } }, stage]));
      expect(err).toMatchObject({ code: 72, codeName: 'InvalidOptions', errmsg: `${name} is not allowed to be used within an update` });
      // the update command reports it as a write error of the statement
      const werr = await serverError(coll.updateOne({ _id: 1 as never }, [stage]));
      expect(werr).toMatchObject({ code: 72, errmsg: `${name} is not allowed to be used within an update` });
    }
    expect(await serverError(coll.updateOne({}, [{ $frobnicate: {} }]))).toMatchObject({ code: 40324, errmsg: "Unrecognized pipeline stage name: '$frobnicate'" });
    expect(await serverError(coll.updateOne({}, [{ $set: { a: 2 }, $unset: 'a' }]))).toMatchObject({ code: 40323 });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, a: 1 }); // nothing applied
  });
});

describe('the TTL monitor', () => {
  it('deletes, within its interval, documents whose TTL-indexed date has passed; not later ones, not non-dates, not outside a partial filter', async () => {
    const { server, client } = await start({ ttlMonitorSleepMs: 100 });
    const coll = client.db('t').collection<Document>('ttl');
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 0, name: 'at_ttl' });
    await coll.createIndex({ on: 1 }, { expireAfterSeconds: 3600, name: 'on_ttl', partialFilterExpression: { kind: 'x' } });
    const now = Date.now();
    await coll.insertMany([
      { _id: 'past' as never, at: new Date(now - 1) },
      { _id: 'array' as never, at: [new Date(now + 3_600_000), new Date(now - 5)] },
      { _id: 'future' as never, at: new Date(now + 3_600_000) },
      { _id: 'string' as never, at: new Date(now - 1).toISOString() },
      { _id: 'none' as never },
      { _id: 'old-x' as never, on: new Date(now - 7_200_000), kind: 'x' },
      { _id: 'old-y' as never, on: new Date(now - 7_200_000), kind: 'y' },
      { _id: 'recent-x' as never, on: new Date(now - 60_000), kind: 'x' },
    ]);
    const ids = async () => (await coll.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as unknown as string).sort();
    for (let i = 0; i < 50 && (await ids()).length > 5; i++) await sleep(50);
    expect(await ids()).toEqual(['future', 'none', 'old-y', 'recent-x', 'string']);
    expect(server.expireNow()).toBe(0);
  });

  it('setParameter ttlMonitorSleepSecs changes the interval at run time, as on mongod', async () => {
    const { client } = await start({ ttlMonitorSleepMs: 3_600_000 });
    const admin = client.db('admin');
    expect(await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).toMatchObject({ ttlMonitorSleepSecs: 3600 });
    const coll = client.db('t').collection<Document>('ttl2');
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await coll.insertOne({ at: new Date(Date.now() - 1) });
    const count = async () => (await coll.find({}).toArray()).length;
    await sleep(300);
    expect(await count()).toBe(1); // the hour-long sleep has not ended
    expect(await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 0.1 })).toMatchObject({ was: 3600, ok: 1 });
    for (let i = 0; i < 40 && (await count()) > 0; i++) await sleep(50);
    expect(await count()).toBe(0);
  });
});

describe('failCommand, as mongod with enableTestCommands has it', () => {
  it('fails the named command `times` times with errorCode, for the named appName only', async () => {
    // retryReads off: the driver would retry a failed read once, hiding the fail point's count
    const { server, client } = await start({}, { appName: 'victim', retryReads: false });
    const other = new MongoClient(server.url, { appName: 'bystander', serverSelectionTimeoutMS: 2000 });
    open.push(other);
    const coll = client.db('t').collection('fp');
    await client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 2 }, data: { failCommands: ['find'], errorCode: 2, appName: 'victim' } });
    expect(await other.db('t').collection('fp').findOne({})).toBeNull();
    expect(await serverError(coll.findOne({}))).toMatchObject({ code: 2, errmsg: "Failing command via 'failCommand' failpoint" });
    expect(await serverError(coll.findOne({}))).toMatchObject({ code: 2 });
    expect(await coll.findOne({})).toBeNull();
  });

  it('skips, then blocks the connection blockTimeMS before running the command; closeConnection drops it', async () => {
    const { client } = await start({}, { retryReads: false });
    const coll = client.db('t').collection('fp');
    await coll.insertOne({ a: 1 });
    const admin = client.db('admin');
    await admin.command({ configureFailPoint: 'failCommand', mode: { skip: 1 }, data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 400 } });
    expect(await coll.findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1 }); // skipped
    const blocked = coll.findOne({}, { projection: { _id: 0 } });
    const first = await Promise.race([blocked.then(() => 'answered'), sleep(200).then(() => 'still blocked')]);
    expect(first).toBe('still blocked');
    expect(await blocked).toEqual({ a: 1 });
    await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['find'], closeConnection: true } });
    const err = await coll.findOne({}).then(() => null, (e: unknown) => e as Error);
    expect(err?.name).toBe('MongoNetworkError');
    expect(await coll.findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1 }); // the driver reconnects
  });
});

describe('a replica set with a lagging secondary, and a mongos', () => {
  it('routes by read preference: primary reads to the primary, secondaryPreferred ones to the secondary, which lags', async () => {
    const { server, client } = await start({ topology: 'replicaSet', replicationLagMs: 0 }, { readPreference: 'secondaryPreferred' });
    const [primary, secondary] = server.nodes;
    expect(primary!.role).toBe('primary');
    expect(secondary!.role).toBe('secondary');
    const seen: SeenCommand[] = [];
    server.onCommand((c) => c.command.find && seen.push(c));
    const db = client.db('t');
    await db.collection('rs').insertOne({ _id: 1 as never, v: 'old' });
    server.replicate();
    await db.collection('rs').updateOne({ _id: 1 as never }, { $set: { v: 'new' } });
    // inherited secondaryPreferred: the secondary's stale copy
    expect(await db.collection('rs').findOne({ _id: 1 as never })).toEqual({ _id: 1, v: 'old' });
    expect(seen.at(-1)).toMatchObject({ node: secondary!.me, command: { $readPreference: { mode: 'secondaryPreferred' } } });
    // a collection opened with readPreference primary: the primary, with no $readPreference sent
    expect(await db.collection('rs', { readPreference: 'primary' }).findOne({ _id: 1 as never })).toEqual({ _id: 1, v: 'new' });
    expect(seen.at(-1)!.node).toBe(primary!.me);
    expect(seen.at(-1)!.command.$readPreference).toBeUndefined();
    server.replicate();
    expect(await db.collection('rs').findOne({ _id: 1 as never })).toEqual({ _id: 1, v: 'new' });
  });

  it('a secondary refuses writes (NotWritablePrimary) and primary-mode reads (NotPrimaryNoSecondaryOk)', async () => {
    const { server, client } = await start({ topology: 'replicaSet', replicationLagMs: 0 }, { directConnection: true }, (s) => `mongodb://${s.nodes[1]!.me}/?directConnection=true`);
    const err = await serverError(client.db('t').collection('rs').insertOne({ a: 1 }));
    expect(err).toMatchObject({ code: 10107, codeName: 'NotWritablePrimary' });
    // a direct connection reads with primaryPreferred (the driver's rule), which a secondary serves
    expect(await client.db('t').collection('rs').findOne({})).toBeNull();
    expect(server.nodes).toHaveLength(2);
  });

  it('a mongos receives $readPreference for non-primary reads, and none for primary ones', async () => {
    const { server, client } = await start({ topology: 'mongos' }, { readPreference: 'secondaryPreferred' });
    const seen: SeenCommand[] = [];
    server.onCommand((c) => c.command.find && seen.push(c));
    expect((await client.db('admin').command({ hello: 1 })).msg).toBe('isdbgrid');
    await client.db('t').collection('m').findOne({});
    await client.db('t').collection('m', { readPreference: 'primary' }).findOne({});
    expect(seen.map((c) => c.command.$readPreference?.mode)).toEqual(['secondaryPreferred', undefined]);
  });
});

describe('the stall proxy', () => {
  it('holds every byte while black-holed without closing a socket, and delivers them when healed', async () => {
    const server = await startMongoStandin();
    open.push(server);
    const proxy = await startStallProxy({ host: '127.0.0.1', port: server.port });
    open.push(proxy);
    const client = new MongoClient(proxy.url('directConnection=true&serverSelectionTimeoutMS=2000'));
    open.push({ close: () => client.close(true) });
    const coll = client.db('t').collection('p');
    await coll.insertOne({ a: 1 });
    const connections = proxy.connections;
    proxy.blackhole();
    const pending = coll.findOne({}, { projection: { _id: 0 } });
    expect(await Promise.race([pending.then(() => 'answered'), sleep(500).then(() => 'no answer')])).toBe('no answer');
    expect(proxy.connections).toBeGreaterThanOrEqual(connections); // nothing closed
    expect(proxy.held).toBeGreaterThan(0);
    proxy.heal();
    expect(await pending).toEqual({ a: 1 }); // late, on the same connection
  });
});
