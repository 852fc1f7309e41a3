import { createTokenAccess } from '@tokenaccess/core';
import { mongoStore } from '@tokenaccess/mongodb';
import { startMongoStandin, type MongoStandin, type SeenCommand } from 'mongo-standin';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_NAME, backend, randomName } from './helpers';

/**
 * Every read and write of the store goes to the primary, whatever read preference the client
 * has. On the stand-in this runs against a replica set with a secondary that lags until told to
 * catch up, and against a mongos; with TOKENACCESS_MONGODB_URL, against that deployment (a
 * replica set or a mongos: a standalone has no secondary to send a read to).
 */
interface Target {
  name: string;
  url: string;
  standin?: MongoStandin;
}

const standins: MongoStandin[] = [];
afterAll(async () => {
  for (const s of standins) await s.close();
});

async function targets(): Promise<Target[]> {
  if (backend.kind.startsWith('stand-in')) {
    const rs = await startMongoStandin({ topology: 'replicaSet', replicationLagMs: 0 });
    const mongos = await startMongoStandin({ topology: 'mongos' });
    standins.push(rs, mongos);
    return [
      { name: 'stand-in replica set (a primary and a lagging secondary)', url: rs.url, standin: rs },
      { name: 'stand-in mongos', url: mongos.url, standin: mongos },
    ];
  }
  const probe = new MongoClient(backend.url, { serverSelectionTimeoutMS: 5000 });
  try {
    const hello = await probe.db('admin').command({ hello: 1 });
    if (hello.setName || hello.msg === 'isdbgrid') return [{ name: `${backend.kind} (${hello.setName ? `replica set ${hello.setName}` : 'mongos'})`, url: backend.url }];
    return [];
  } finally {
    await probe.close();
  }
}

const all = await targets();

describe.skipIf(all.length === 0)('a client with readPreference=secondaryPreferred', () => {
  for (const target of all) {
    it(`${target.name}: every store command goes to the primary with no $readPreference, while the client's own reads do not`, async () => {
      const url = `${target.url}${target.url.includes('?') ? '&' : '?'}readPreference=secondaryPreferred`;
      const client = new MongoClient(url, { monitorCommands: true, serverSelectionTimeoutMS: 5000 });
      const name = randomName();
      const events: CommandStartedEvent[] = [];
      const wire: SeenCommand[] = [];
      client.on('commandStarted', (e) => e.command[e.commandName] === name && events.push(e));
      const stop = target.standin?.onCommand((c) => c.command[Object.keys(c.command)[0]!] === name && wire.push(c));
      try {
        expect(client.readPreference.mode).toBe('secondaryPreferred');
        const hello = await client.db('admin').command({ hello: 1 });
        const store = mongoStore({ db: client.db(DB_NAME), collection: name });
        expect(store.collection.readPreference?.mode).toBe('primary');
        await store.ensureIndexes();
        const tokens = createTokenAccess({ store });
        const { token, info } = await tokens.issue({ subject: 'u', name: 'n' });
        const counted = await tokens.issue({ subject: 'u', name: 'c', maxUses: 2 });
        expect((await tokens.verify(token)).ok).toBe(true);
        expect((await tokens.verify(counted.token)).ok).toBe(true);
        expect((await tokens.list({ subject: 'u' })).items).toHaveLength(2);
        await tokens.disable(info.id);
        expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'disabled' } });
        await tokens.enable(info.id);
        await store.sweep(new Date());
        target.standin?.replicate();
        await tokens.revokeById(info.id);
        // the secondary still holds the token (no replication since): a secondary read would accept it
        expect(await tokens.verify(token)).toMatchObject({ ok: false, error: { code: 'not_found' } });

        expect(events.length).toBeGreaterThan(10);
        for (const e of events) {
          expect(e.command.$readPreference?.mode ?? 'primary').toBe('primary');
          if (hello.setName) expect(e.address).toBe(hello.primary);
        }
        if (target.standin) {
          expect(wire.length).toBe(events.length);
          for (const c of wire) {
            expect(c.role).toMatch(/^(primary|mongos)$/);
            expect(c.command.$readPreference).toBeUndefined();
          }
        }

        // the control: a collection that inherits the client's preference reads elsewhere
        const control: CommandStartedEvent[] = [];
        client.on('commandStarted', (e) => e.commandName === 'find' && e.command.find === name && control.push(e));
        const stale = await client.db(DB_NAME).collection(name).findOne({ _id: info.id as never });
        expect(control[0]?.command.$readPreference).toMatchObject({ mode: 'secondaryPreferred' });
        if (target.standin && hello.setName) {
          expect(control[0]?.address).not.toBe(hello.primary);
          expect(stale).toMatchObject({ _id: info.id }); // the revoked token, from the lagging secondary
        }
      } finally {
        stop?.();
        await client.db(DB_NAME).collection(name).drop().catch(() => {});
        await client.close();
      }
    });
  }
});
