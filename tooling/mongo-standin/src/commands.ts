import { Long, type Document } from 'bson';
import { applyUpdate, changed, Collection, CommandError, project, type IndexSpec } from './collection';
import { MAX_MESSAGE_SIZE } from './wire';

/**
 * The commands the tokenaccess MongoDB store (and its tests) send, with MongoDB's reply shapes.
 * Anything else answers `CommandNotFound`, as a server does for a command it does not know.
 */

/** What the stand-in claims to be: a MongoDB 7.0 standalone. */
export const SERVER_VERSION = '7.0.0';
const MAX_WIRE_VERSION = 21;
const DEFAULT_BATCH_SIZE = 101;

interface OpenCursor {
  ns: string;
  docs: Document[];
}

export class Engine {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = 1;

  private collection(db: string, name: string, create: true): Collection;
  private collection(db: string, name: string, create?: false): Collection | undefined;
  private collection(db: string, name: string, create = false): Collection | undefined {
    let database = this.databases.get(db);
    if (!database) {
      if (!create) return undefined;
      database = new Map();
      this.databases.set(db, database);
    }
    let coll = database.get(name);
    if (!coll && create) {
      coll = new Collection(`${db}.${name}`);
      database.set(name, coll);
    }
    return coll;
  }

  /** Runs one command. Never throws: failures are `{ ok: 0 }` replies. */
  run(db: string, command: Document, connectionId: number): Document {
    const name = Object.keys(command)[0] ?? '';
    try {
      switch (name) {
        case 'hello':
        case 'isMaster':
        case 'ismaster':
          return this.hello(name, connectionId);
        case 'ping':
        case 'endSessions':
          return { ok: 1 };
        case 'buildInfo':
        case 'buildinfo':
          return { version: SERVER_VERSION, versionArray: [7, 0, 0, 0], gitVersion: 'mongo-standin', bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 };
        case 'insert':
          return this.insert(db, command);
        case 'find':
          return this.find(db, command);
        case 'getMore':
          return this.getMore(command);
        case 'killCursors':
          return this.killCursors(command);
        case 'update':
          return this.update(db, command);
        case 'delete':
          return this.delete(db, command);
        case 'findAndModify':
        case 'findandmodify':
          return this.findAndModify(db, command);
        case 'createIndexes':
          return this.createIndexes(db, command);
        case 'listIndexes':
          return this.listIndexes(db, command);
        case 'drop':
          return this.drop(db, command);
        case 'dropDatabase':
          this.databases.delete(db);
          return { dropped: db, ok: 1 };
        default:
          throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
      }
    } catch (err) {
      if (err instanceof CommandError) return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName, ...err.extra };
      return { ok: 0, errmsg: `mongo-standin: ${(err as Error).message}`, code: 1, codeName: 'InternalError' };
    }
  }

  private hello(name: string, connectionId: number): Document {
    return {
      helloOk: true,
      [name === 'hello' ? 'isWritablePrimary' : 'ismaster']: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      // Sessions are "supported" (the driver sends lsid and endSessions; both are accepted).
      logicalSessionTimeoutMinutes: 30,
      connectionId,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
  }

  private cursorReply(ns: string, docs: Document[], batchSize: number | undefined, singleBatch: boolean, field: 'firstBatch' | 'nextBatch', id?: number): Document {
    const size = batchSize && batchSize > 0 ? batchSize : DEFAULT_BATCH_SIZE;
    const batch = docs.slice(0, size);
    const rest = docs.slice(size);
    let cursorId = 0;
    if (rest.length > 0 && !singleBatch) {
      cursorId = id ?? this.nextCursorId++;
      this.cursors.set(cursorId, { ns, docs: rest });
    } else if (id !== undefined) {
      this.cursors.delete(id);
    }
    return { cursor: { [field]: batch, id: Long.fromNumber(cursorId), ns }, ok: 1 };
  }

  private insert(db: string, cmd: Document): Document {
    const coll = this.collection(db, cmd.insert, true);
    const documents = (cmd.documents ?? []) as Document[];
    const ordered = cmd.ordered !== false;
    let n = 0;
    const writeErrors: Document[] = [];
    for (const [index, doc] of documents.entries()) {
      try {
        coll.insert(doc);
        n++;
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        // Write errors carry no codeName, as MongoDB's do not.
        writeErrors.push({ index, code: err.code, errmsg: err.message, ...err.extra });
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  private find(db: string, cmd: Document): Document {
    const ns = `${db}.${cmd.find}`;
    const coll = this.collection(db, cmd.find);
    const limit = typeof cmd.limit === 'number' ? cmd.limit : 0;
    const found = coll ? coll.find(cmd.filter ?? {}, { sort: cmd.sort, skip: cmd.skip, limit }) : [];
    const docs = found.map((d) => project(d, cmd.projection));
    return this.cursorReply(ns, docs, cmd.batchSize, cmd.singleBatch === true || limit < 0, 'firstBatch');
  }

  private getMore(cmd: Document): Document {
    const id = Number(cmd.getMore);
    const cursor = this.cursors.get(id);
    if (!cursor) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
    return this.cursorReply(cursor.ns, cursor.docs, cmd.batchSize, false, 'nextBatch', id);
  }

  private killCursors(cmd: Document): Document {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of (cmd.cursors ?? []) as unknown[]) {
      const id = Number(raw);
      (this.cursors.delete(id) ? killed : notFound).push(Long.fromNumber(id));
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  private update(db: string, cmd: Document): Document {
    const coll = this.collection(db, cmd.update);
    let n = 0;
    let nModified = 0;
    const writeErrors: Document[] = [];
    for (const [index, u] of ((cmd.updates ?? []) as Document[]).entries()) {
      if (u.upsert) throw new CommandError(2, 'BadValue', 'mongo-standin: upsert is not supported');
      const targets = coll ? coll.find(u.q ?? {}, { sort: u.sort, limit: u.multi ? 0 : 1 }) : [];
      try {
        for (const doc of targets) {
          const next = applyUpdate(doc, u.u, u.q ?? {}, u.arrayFilters);
          n++;
          if (changed(doc, next)) {
            coll!.replace(doc, next);
            nModified++;
          }
        }
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        writeErrors.push({ index, code: err.code, errmsg: err.message, ...err.extra });
        if (cmd.ordered !== false) break;
      }
    }
    return writeErrors.length ? { n, nModified, writeErrors, ok: 1 } : { n, nModified, ok: 1 };
  }

  private delete(db: string, cmd: Document): Document {
    const coll = this.collection(db, cmd.delete);
    let n = 0;
    for (const d of (cmd.deletes ?? []) as Document[]) {
      if (!coll) continue;
      for (const doc of coll.find(d.q ?? {}, { limit: d.limit === 1 ? 1 : 0 })) {
        coll.remove(doc);
        n++;
      }
    }
    return { n, ok: 1 };
  }

  private findAndModify(db: string, cmd: Document): Document {
    const name = cmd.findAndModify ?? cmd.findandmodify;
    if (cmd.upsert) throw new CommandError(2, 'BadValue', 'mongo-standin: upsert is not supported');
    if (cmd.remove && cmd.update !== undefined) throw new CommandError(9, 'FailedToParse', 'Cannot specify both an update and remove=true');
    const coll = this.collection(db, name);
    const doc = coll?.find(cmd.query ?? {}, { sort: cmd.sort, limit: 1 })[0];
    if (!coll || !doc) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    if (cmd.remove) {
      coll.remove(doc);
      return { lastErrorObject: { n: 1 }, value: project(doc, cmd.fields), ok: 1 };
    }
    if (cmd.update === undefined) throw new CommandError(9, 'FailedToParse', 'Either an update or remove=true must be specified');
    const next = applyUpdate(doc, cmd.update, cmd.query ?? {}, cmd.arrayFilters);
    // MongoDB writes nothing for an update that changes nothing; neither does the stand-in.
    if (changed(doc, next)) coll.replace(doc, next);
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(cmd.new ? next : doc, cmd.fields), ok: 1 };
  }

  private createIndexes(db: string, cmd: Document): Document {
    const existed = this.collection(db, cmd.createIndexes) !== undefined;
    const coll = this.collection(db, cmd.createIndexes, true);
    const before = coll.listIndexes().length;
    for (const raw of (cmd.indexes ?? []) as Document[]) {
      if (!raw.key || typeof raw.name !== 'string') throw new CommandError(9, 'FailedToParse', 'index specification needs a key and a name');
      const spec: IndexSpec = { v: 2, key: raw.key, name: raw.name };
      for (const opt of ['unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression'] as const) {
        if (raw[opt] !== undefined) (spec as unknown as Document)[opt] = raw[opt];
      }
      // TTL indexes are accepted and listed; nothing here deletes expired documents (MongoDB's
      // TTL monitor runs only once a minute anyway, so a store can never rely on it).
      coll.createIndex(spec);
    }
    const after = coll.listIndexes().length;
    return {
      numIndexesBefore: before,
      numIndexesAfter: after,
      ...(after === before ? { note: 'all indexes already exist' } : {}),
      createdCollectionAutomatically: !existed,
      ok: 1,
    };
  }

  private listIndexes(db: string, cmd: Document): Document {
    const coll = this.collection(db, cmd.listIndexes);
    if (!coll) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${cmd.listIndexes}`);
    return this.cursorReply(`${db}.${cmd.listIndexes}`, coll.listIndexes(), cmd.cursor?.batchSize, false, 'firstBatch');
  }

  private drop(db: string, cmd: Document): Document {
    const coll = this.collection(db, cmd.drop);
    if (!coll) return { ok: 1 }; // MongoDB 7.0 no longer fails on a missing collection
    this.databases.get(db)!.delete(cmd.drop);
    return { nIndexesWas: coll.listIndexes().length, ns: coll.ns, ok: 1 };
  }
}
