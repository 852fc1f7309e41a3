import { Long, ObjectId, type Document } from 'bson';
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

/** What one listening node is: its address, its role, and the replica set it belongs to. */
export interface NodeInfo {
  /** `host:port`, as hello's `me` and `hosts` name it. */
  me: string;
  role: 'standalone' | 'primary' | 'secondary' | 'mongos';
  /** Replica set members only. */
  replicaSet?: { setName: string; hosts: string[]; primary: string; electionId: ObjectId };
  /**
   * hello's `topologyVersion` (server-monitoring spec): a `processId` drawn when the node starts
   * and a `counter` that would grow on a topology change (the stand-in never has one).
   */
  topologyVersion: { processId: ObjectId; counter: Long };
}

/** The connection a command arrived on. */
export interface ConnectionInfo {
  id: number;
  node: NodeInfo;
}

/** MongoDB's `failCommand` fail point (test commands), as `configureFailPoint` sets it. */
export interface FailPoint {
  mode: 'alwaysOn' | { times: number } | { skip: number };
  failCommands: string[];
  errorCode?: number;
  closeConnection?: boolean;
  blockConnection?: boolean;
  blockTimeMS?: number;
  appName?: string;
}

/** What the connection layer must do to a command a fail point caught. */
export type FailAction = Pick<FailPoint, 'errorCode' | 'closeConnection' | 'blockConnection' | 'blockTimeMS'>;

const READS = new Set(['find', 'getMore', 'listIndexes', 'killCursors', 'count', 'aggregate']);
const WRITES = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify', 'createIndexes', 'drop', 'dropDatabase']);

export class Engine {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = 1;
  private failPoint: FailPoint | undefined;
  /** MongoDB's `ttlMonitorSleepSecs` parameter, read by the TTL pass's timer (ms here). */
  ttlMonitorSleepMs = 60_000;
  /** Called when `setParameter` changes `ttlMonitorSleepSecs` (the server re-arms its TTL timer). */
  onTtlSleepChange?: () => void;

  /** Replaces this engine's data with a copy of `source`'s (a secondary catching up). */
  copyFrom(source: Engine): void {
    const before = this.databases;
    const after = new Map<string, Map<string, Collection>>();
    for (const [db, colls] of source.databases) {
      // a collection that has not changed since the last copy is kept as it is
      const mine = before.get(db);
      after.set(db, new Map([...colls].map(([name, coll]) => [name, mine?.get(name)?.origin === coll && mine.get(name)!.version === coll.version ? mine.get(name)! : coll.clone()])));
    }
    before.clear();
    for (const [db, colls] of after) before.set(db, colls);
  }

  /** One TTL monitor pass over every collection; returns how many documents it deleted. */
  expire(now: Date): number {
    let n = 0;
    for (const colls of this.databases.values()) for (const coll of colls.values()) n += coll.expire(now);
    return n;
  }

  /**
   * Whether the `failCommand` fail point catches this command (counting it against `times` and
   * `skip`), and what to do; `undefined` when it does not.
   */
  failFor(command: Document, appName: string | undefined): FailAction | undefined {
    const fp = this.failPoint;
    const name = Object.keys(command)[0] ?? '';
    if (!fp || !fp.failCommands.includes(name) || (fp.appName !== undefined && fp.appName !== appName)) return undefined;
    if (typeof fp.mode === 'object' && 'skip' in fp.mode) {
      if (fp.mode.skip > 0) {
        fp.mode = { skip: fp.mode.skip - 1 };
        return undefined;
      }
      fp.mode = 'alwaysOn';
    }
    if (typeof fp.mode === 'object' && 'times' in fp.mode) {
      fp.mode = { times: fp.mode.times - 1 };
      if (fp.mode.times <= 0) this.failPoint = undefined;
    }
    const { errorCode, closeConnection, blockConnection, blockTimeMS } = fp;
    return { errorCode, closeConnection, blockConnection, blockTimeMS };
  }

  private setParameter(cmd: Document): Document {
    if (cmd.ttlMonitorSleepSecs === undefined) throw new CommandError(2, 'BadValue', 'mongo-standin: only ttlMonitorSleepSecs can be set');
    const was = this.ttlMonitorSleepMs / 1000;
    this.ttlMonitorSleepMs = Number(cmd.ttlMonitorSleepSecs) * 1000;
    this.onTtlSleepChange?.();
    return { was, ok: 1 };
  }

  private configureFailPoint(cmd: Document): Document {
    if (cmd.configureFailPoint !== 'failCommand') throw new CommandError(2, 'BadValue', `mongo-standin: only the failCommand fail point exists (got ${String(cmd.configureFailPoint)})`);
    const mode = cmd.mode as FailPoint['mode'] | 'off';
    if (mode === 'off') {
      this.failPoint = undefined;
      return { count: 0, ok: 1 };
    }
    const data = (cmd.data ?? {}) as Document;
    if (!Array.isArray(data.failCommands)) throw new CommandError(2, 'BadValue', "'data' must have an array field 'failCommands'");
    const numeric = (m: unknown) => (m && typeof m === 'object' ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)])) : m);
    this.failPoint = { ...(data as Omit<FailPoint, 'mode'>), mode: numeric(mode) as FailPoint['mode'] };
    if (data.blockTimeMS !== undefined) this.failPoint.blockTimeMS = Number(data.blockTimeMS);
    return { count: 0, ok: 1 };
  }

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
  run(db: string, command: Document, connection: ConnectionInfo): Document {
    const name = Object.keys(command)[0] ?? '';
    try {
      const { role } = connection.node;
      if (role === 'secondary' && WRITES.has(name)) throw new CommandError(10107, 'NotWritablePrimary', 'not primary');
      // OP_MSG without $readPreference means primary: a secondary refuses it, as mongod does
      if (role === 'secondary' && READS.has(name) && (command.$readPreference?.mode ?? 'primary') === 'primary') {
        throw new CommandError(13435, 'NotPrimaryNoSecondaryOk', 'not primary and secondaryOk=false');
      }
      switch (name) {
        case 'hello':
        case 'isMaster':
        case 'ismaster':
          return this.hello(name, connection);
        case 'configureFailPoint':
          return this.configureFailPoint(command);
        case 'setParameter':
          return this.setParameter(command);
        case 'getParameter':
          return { ttlMonitorSleepSecs: this.ttlMonitorSleepMs / 1000, ok: 1 };
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

  private hello(name: string, { id: connectionId, node }: ConnectionInfo): Document {
    const rs = node.replicaSet;
    return {
      helloOk: true,
      [name === 'hello' ? 'isWritablePrimary' : 'ismaster']: node.role !== 'secondary',
      ...(node.role === 'mongos' ? { msg: 'isdbgrid' } : {}),
      ...(rs
        ? {
            setName: rs.setName,
            setVersion: 1,
            hosts: rs.hosts,
            primary: rs.primary,
            me: node.me,
            secondary: node.role === 'secondary',
            ...(node.role === 'primary' ? { electionId: rs.electionId } : {}),
          }
        : {}),
      topologyVersion: node.topologyVersion,
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
