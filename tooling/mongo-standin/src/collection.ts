import { deserialize, EJSON, ObjectId, serialize, type Document } from 'bson';
import { Aggregator, Query, update as applyOperators } from 'mingo';

/**
 * One collection: documents in insertion (natural) order, its indexes, and the unique
 * constraints they impose. Every method is synchronous, so a command runs to completion before
 * the next one starts: that is what makes `findAndModify` atomic here, as a document-level lock
 * makes it atomic in MongoDB.
 */

/** An error MongoDB would answer with; commands turn it into `{ ok: 0, code, codeName, errmsg, ... }`. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Document = {},
  ) {
    super(message);
  }
}

export interface IndexSpec {
  v: 2;
  key: Record<string, number | string>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Document;
}

interface UniqueIndex {
  spec: IndexSpec;
  fields: string[];
  partial?: Query;
  /** Index key (canonical EJSON of the key values) → `_id` key of the document holding it. */
  entries: Map<string, string>;
}

const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/** Canonical string of a BSON value, so equal values (of equal type) give equal keys. */
export const keyOf = (value: unknown): string => EJSON.stringify({ v: value ?? null }, { relaxed: false });

const clone = (doc: Document): Document => deserialize(serialize(doc));

/** Whether an update changed a document (byte-wise, as BSON: types and field order count). */
export const changed = (before: Document, after: Document): boolean => !Buffer.from(serialize(before)).equals(serialize(after));

function resolve(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Document)[part];
  }
  return value;
}

/** A value an equality filter can look up in an index (not an operator document). */
function isScalar(value: unknown): boolean {
  return ['string', 'number', 'boolean'].includes(typeof value) || value instanceof Date || value instanceof ObjectId;
}

export type UpdateSpec = Document | Document[];

const SIMPLE = new Set(['$set', '$inc', '$unset']);

/**
 * `$set`, `$inc` and `$unset` on plain (possibly dotted) paths, applied directly: mingo's
 * general updater sets up a context per call, which made it the stand-in's slowest step. Returns
 * false (having changed nothing) when the update needs more than this, for mingo to apply.
 */
function applySimple(doc: Document, spec: Document): boolean {
  const ops = Object.entries(spec) as [string, Document][];
  if (!ops.every(([op, fields]) => SIMPLE.has(op) && fields && typeof fields === 'object' && Object.keys(fields).every((p) => !p.includes('$')))) return false;
  for (const [op, fields] of ops) {
    fields: for (const [path, value] of Object.entries(fields)) {
      const parts = path.split('.');
      const last = parts.pop()!;
      let target: Document = doc;
      for (const part of parts) {
        if (target[part] === undefined && op !== '$unset') target[part] = {};
        if (target[part] === null || typeof target[part] !== 'object' || Array.isArray(target[part])) {
          if (op === '$unset') continue fields; // nothing there to remove
          throw new CommandError(28, 'PathNotViable', `Cannot create field '${last}' in element {${part}: ${EJSON.stringify(target[part])}}`);
        }
        target = target[part] as Document;
      }
      if (op === '$set') target[last] = value;
      else if (op === '$unset') delete target[last];
      else {
        const current = target[last] ?? 0;
        if (typeof current !== 'number' || typeof value !== 'number') {
          throw new CommandError(14, 'TypeMismatch', `Cannot apply $inc to a value of non-numeric type. {_id: ${EJSON.stringify(doc._id)}} has the field '${last}' of non-numeric type`);
        }
        target[last] = current + value;
      }
    }
  }
  return true;
}

/**
 * The stages MongoDB runs in an update pipeline (its `isAllowedWithinUpdatePipeline` stages, as
 * the manual lists them for `update` and `findAndModify`). Every other stage is refused.
 */
export const UPDATE_PIPELINE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

/** Stages MongoDB knows (and refuses in an update with 72); any other name is unrecognized (40324). */
const KNOWN_STAGES = new Set([
  '$match', '$group', '$sort', '$limit', '$skip', '$lookup', '$unwind', '$count', '$facet', '$bucket', '$bucketAuto',
  '$sample', '$out', '$merge', '$geoNear', '$graphLookup', '$redact', '$sortByCount', '$densify', '$fill',
  '$setWindowFields', '$unionWith', '$documents', '$collStats', '$indexStats', '$changeStream', '$currentOp',
  '$listSessions', '$planCacheStats', '$search', '$searchMeta', '$vectorSearch', '$changeStreamSplitLargeEvent',
]);

/** Refuses an update pipeline as MongoDB does: one field per stage, and only the update stages. */
function checkUpdatePipeline(pipeline: Document[]): void {
  for (const stage of pipeline) {
    const names = stage && typeof stage === 'object' ? Object.keys(stage) : [];
    if (names.length !== 1) throw new CommandError(40323, 'Location40323', 'A pipeline stage specification object must contain exactly one field.');
    const name = names[0]!;
    if (UPDATE_PIPELINE_STAGES.has(name)) continue;
    if (KNOWN_STAGES.has(name)) throw new CommandError(72, 'InvalidOptions', `${name} is not allowed to be used within an update`);
    throw new CommandError(40324, 'Location40324', `Unrecognized pipeline stage name: '${name}'`);
  }
}

const immutableId = () => new CommandError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");

/** Applies an update (operator document, pipeline, or replacement) to a copy of `doc`. */
export function applyUpdate(doc: Document, spec: UpdateSpec, filter: Document, arrayFilters?: Document[]): Document {
  let next: Document;
  if (Array.isArray(spec)) {
    checkUpdatePipeline(spec);
    next = new Aggregator(spec).run([clone(doc)])[0] as Document;
  } else if (Object.keys(spec).some((k) => k.startsWith('$'))) {
    if (!Object.keys(spec).every((k) => k.startsWith('$'))) throw new CommandError(9, 'FailedToParse', 'Unknown modifier: cannot mix operators and fields in an update');
    for (const fields of Object.values(spec) as Document[]) {
      if (Object.keys(fields ?? {}).some((path) => path === '_id' || path.startsWith('_id.'))) throw immutableId();
    }
    next = clone(doc);
    if (!arrayFilters?.length && applySimple(next, spec)) return next;
    applyOperators(next, spec, arrayFilters, filter);
  } else {
    next = { _id: doc._id, ...clone(spec) };
  }
  if (next._id === undefined) next = { _id: doc._id, ...next };
  if (keyOf(next._id) !== keyOf(doc._id)) throw immutableId();
  return next;
}

export class Collection {
  private readonly docs = new Map<string, Document>();
  private readonly indexes: IndexSpec[] = [ID_INDEX];
  private readonly uniques: UniqueIndex[] = [];
  /** Grows with every change (documents or indexes): a secondary copies only what changed. */
  version = 0;
  /** The collection this one is a copy of (a secondary's), as of `version`. */
  origin: Collection | undefined;

  constructor(readonly ns: string) {}

  /** A deep copy: documents, indexes and unique constraints (a secondary's view of it). */
  clone(): Collection {
    const copy = new Collection(this.ns);
    for (const spec of this.indexes.slice(1)) copy.createIndex({ ...spec });
    for (const doc of this.docs.values()) copy.insert(clone(doc));
    copy.version = this.version;
    copy.origin = this;
    return copy;
  }

  get size(): number {
    return this.docs.size;
  }

  listIndexes(): IndexSpec[] {
    return this.indexes.map((i) => ({ ...i }));
  }

  /** Creates an index; returns false when an identical one exists already. */
  createIndex(spec: IndexSpec): boolean {
    const { name: _n, ...options } = spec;
    const sameName = this.indexes.find((i) => i.name === spec.name);
    if (sameName) {
      const { name: _m, ...existing } = sameName;
      if (keyOf(existing) === keyOf(options)) return false;
      const keyDiffers = keyOf(sameName.key) !== keyOf(spec.key);
      throw new CommandError(
        keyDiffers ? 86 : 85,
        keyDiffers ? 'IndexKeySpecsConflict' : 'IndexOptionsConflict',
        `An existing index has the same name as the requested index but ${keyDiffers ? 'a different key' : 'different options'}. Requested index: ${EJSON.stringify(spec)}, existing index: ${EJSON.stringify(sameName)}`,
      );
    }
    const sameKey = this.indexes.find((i) => keyOf(i.key) === keyOf(spec.key));
    if (sameKey) {
      throw new CommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${sameKey.name}`);
    }
    if (spec.unique) {
      const unique: UniqueIndex = {
        spec,
        fields: Object.keys(spec.key),
        partial: spec.partialFilterExpression ? new Query(spec.partialFilterExpression) : undefined,
        entries: new Map(),
      };
      for (const [id, doc] of this.docs) {
        const key = this.uniqueKey(unique, doc);
        if (key === null) continue;
        if (unique.entries.has(key)) throw this.duplicate(unique, doc);
        unique.entries.set(key, id);
      }
      this.uniques.push(unique);
    }
    this.indexes.push(spec);
    this.version++;
    return true;
  }

  private uniqueKey(index: UniqueIndex, doc: Document): string | null {
    if (index.partial && !index.partial.test(doc)) return null;
    const values = index.fields.map((f) => resolve(doc, f));
    if (index.spec.sparse && values.every((v) => v === undefined)) return null;
    return keyOf(values.map((v) => v ?? null));
  }

  private duplicate(index: UniqueIndex, doc: Document): CommandError {
    const keyValue: Document = {};
    for (const f of index.fields) keyValue[f] = resolve(doc, f) ?? null;
    const shown = index.fields.map((f) => `${f}: ${EJSON.stringify(keyValue[f], { relaxed: true })}`).join(', ');
    return new CommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${this.ns} index: ${index.spec.name} dup key: { ${shown} }`, {
      keyPattern: { ...index.spec.key },
      keyValue,
    });
  }

  /** Throws E11000 when `doc` would collide with another document (`selfId`: the one it replaces). */
  private checkUnique(doc: Document, selfId?: string): void {
    const id = keyOf(doc._id);
    if (id !== selfId && this.docs.has(id)) {
      throw new CommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${this.ns} index: _id_ dup key: { _id: ${EJSON.stringify(doc._id, { relaxed: true })} }`, {
        keyPattern: { _id: 1 },
        keyValue: { _id: doc._id },
      });
    }
    for (const index of this.uniques) {
      const key = this.uniqueKey(index, doc);
      if (key === null) continue;
      const holder = index.entries.get(key);
      if (holder !== undefined && holder !== selfId) throw this.duplicate(index, doc);
    }
  }

  private index(doc: Document, id: string): void {
    for (const index of this.uniques) {
      const key = this.uniqueKey(index, doc);
      if (key !== null) index.entries.set(key, id);
    }
  }

  private unindex(doc: Document): void {
    for (const index of this.uniques) {
      const key = this.uniqueKey(index, doc);
      if (key !== null) index.entries.delete(key);
    }
  }

  insert(input: Document): void {
    const doc = input._id === undefined ? { _id: new ObjectId(), ...input } : input;
    this.checkUnique(doc);
    const id = keyOf(doc._id);
    this.docs.set(id, doc);
    this.index(doc, id);
    this.version++;
  }

  /** Replaces a stored document with its updated version, enforcing unique indexes. */
  replace(current: Document, next: Document): void {
    const id = keyOf(current._id);
    this.checkUnique(next, id);
    this.unindex(current);
    this.docs.set(id, next);
    this.index(next, id);
    this.version++;
  }

  remove(doc: Document): void {
    this.unindex(doc);
    this.docs.delete(keyOf(doc._id));
    this.version++;
  }

  /**
   * One pass of MongoDB's TTL monitor over this collection: for every TTL index (one field,
   * `expireAfterSeconds`), deletes each document whose indexed value is a date (of an array of
   * values, the earliest date) at or before `now - expireAfterSeconds`, within the index's
   * partial filter. Documents without a date there never expire. Returns how many it deleted.
   */
  expire(now: Date): number {
    let deleted = 0;
    for (const index of this.indexes) {
      const fields = Object.keys(index.key);
      if (index.expireAfterSeconds === undefined || fields.length !== 1) continue;
      const before = now.getTime() - index.expireAfterSeconds * 1000;
      const partial = index.partialFilterExpression ? new Query(index.partialFilterExpression) : undefined;
      for (const doc of [...this.docs.values()]) {
        const value = resolve(doc, fields[0]!);
        const dates = (Array.isArray(value) ? value : [value]).filter((v): v is Date => v instanceof Date);
        if (dates.length === 0 || Math.min(...dates.map((d) => d.getTime())) > before) continue;
        if (partial && !partial.test(doc)) continue;
        this.remove(doc);
        deleted++;
      }
    }
    return deleted;
  }

  /**
   * The documents `filter` can match, narrowed through the `_id` or a single-field unique index
   * when the filter holds an equality on one (MongoDB's IDHACK / point lookup), else all.
   */
  private candidates(filter: Document): Document[] {
    if (isScalar(filter._id)) {
      const doc = this.docs.get(keyOf(filter._id));
      return doc ? [doc] : [];
    }
    for (const index of this.uniques) {
      const field = index.fields[0]!;
      if (index.fields.length !== 1 || index.partial || index.spec.sparse || !isScalar(filter[field])) continue;
      const id = index.entries.get(keyOf([filter[field]]));
      const doc = id === undefined ? undefined : this.docs.get(id);
      return doc ? [doc] : [];
    }
    return [...this.docs.values()];
  }

  /** Matching documents (stored objects, not copies), sorted, skipped and limited. */
  find(filter: Document = {}, opts: { sort?: Document; skip?: number; limit?: number } = {}): Document[] {
    let cursor = new Query(filter).find<Document>(this.candidates(filter));
    if (opts.sort && Object.keys(opts.sort).length > 0) cursor = cursor.sort(opts.sort);
    if (opts.skip) cursor = cursor.skip(opts.skip);
    if (opts.limit) cursor = cursor.limit(Math.abs(opts.limit));
    return cursor.all();
  }
}

/** Applies a find projection to a document (returns a copy). */
export function project(doc: Document, projection?: Document): Document {
  if (!projection || Object.keys(projection).length === 0) return doc;
  return new Query({}).find<Document>([doc], projection).all()[0] ?? {};
}
