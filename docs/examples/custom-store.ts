// Writing a store on the store kit (docs/writing-a-store.md): a store over a key-value service
// with versioned writes (compare-and-set), the model of DynamoDB, etcd or Consul. The kit owns
// every rule; this file holds only the engine: keys, encoding, the CAS loop and client wiring.
import {
  DuplicateTokenError,
  type ConsumePolicy,
  type ConsumeResult,
  type TokenInfo,
  type TokenStore,
  applyPatch,
  checkListQuery,
  deadReason,
  deadlines,
  evaluateConsume,
  judgeRead,
  listMatches,
  storeError,
  sweepInBatches,
} from '@tokenaccess/core/store';

/** What the store needs from the service: versioned reads, conditional writes, ordered scans. */
export interface KvClient {
  get(key: string): Promise<{ value: string; version: number } | null>;
  /** Writes when the key's current version is `ifVersion` (0: the key is absent); false otherwise. */
  put(key: string, value: string, ifVersion: number): Promise<boolean>;
  /** Deletes when the key's current version is `ifVersion` (any version when absent); false otherwise. */
  delete(key: string, ifVersion?: number): Promise<boolean>;
  /** Keys starting with `prefix` and greater than `after`, in key order. */
  scan(prefix: string, after: string, limit: number): Promise<{ key: string; value: string }[]>;
}

export interface CasStoreOptions {
  client: KvClient;
  /** @default 2000 */
  timeout?: number;
}

const DATES = ['expiresAt', 'createdAt', 'lastUsedAt', 'disabledAt'] as const;
const encode = (r: TokenInfo) => JSON.stringify(r);
function decode(json: string): TokenInfo {
  const r = JSON.parse(json) as TokenInfo;
  for (const k of DATES) if (r[k] !== undefined) r[k] = new Date(r[k] as unknown as string);
  return r;
}
const tokenKey = (hash: string) => `t:${hash}`;
const idKey = (id: string) => `i:${id}`;

/** A {@link TokenStore} on a compare-and-set key-value service. */
export function casStore({ client, timeout = 2000 }: CasStoreOptions): TokenStore {
  const calls = deadlines(timeout, (what, err) => storeError('cas', what, err));
  const read = async (hash: string) => {
    const got = await client.get(tokenKey(hash));
    return got ? { record: decode(got.value), version: got.version } : null;
  };
  const hashOf = async (id: string) => (await client.get(idKey(id)))?.value ?? null;

  /** Read, change, write if nobody wrote in between; else again. Atomic per record. */
  async function change<T>(hash: string, step: (r: TokenInfo) => { next?: TokenInfo; out: T }): Promise<T | null> {
    for (;;) {
      const cur = await read(hash);
      if (!cur) return null;
      const { next, out } = step(cur.record);
      if (!next || (await client.put(tokenKey(hash), encode(next), cur.version))) return out;
    }
  }

  const atomicConsume = async (hash: string, now: Date, policy: ConsumePolicy): Promise<ConsumeResult> =>
    (await change(hash, (r): { next?: TokenInfo; out: ConsumeResult } => {
      const v = evaluateConsume(r, now.getTime(), policy);
      if (!v.ok) return { out: { ok: false, reason: v.reason, record: r } };
      return { next: v.write ? v.record : undefined, out: { ok: true, record: v.record } };
    })) ?? { ok: false, reason: 'not_found' };

  /** Deletes a record once: of parallel deletes, one wins and returns it. */
  const remove = async (hash: string | null): Promise<TokenInfo | null> => {
    for (;;) {
      const cur = hash === null ? null : await read(hash);
      if (!cur) return null;
      if (!(await client.delete(tokenKey(cur.record.hash), cur.version))) continue;
      await client.delete(idKey(cur.record.id));
      return cur.record;
    }
  };

  /** Every record, in id order, a page at a time (list, revokeAll and sweep walk it). */
  async function* all(after = '') {
    for (let from = idKey(after); ; ) {
      const page = await client.scan('i:', from, 100);
      for (const { key, value } of page) {
        const cur = await read(value);
        if (cur && key === idKey(cur.record.id)) yield cur.record;
      }
      if (page.length < 100) return;
      from = page[page.length - 1]!.key;
    }
  }

  return {
    callTimeout: timeout,
    insert: (record) =>
      calls.run('insert', async () => {
        if (!(await client.put(idKey(record.id), record.hash, 0))) throw new DuplicateTokenError('[tokenaccess] [cas] this id exists');
        if (await client.put(tokenKey(record.hash), encode(record), 0)) return;
        await client.delete(idKey(record.id));
        throw new DuplicateTokenError('[tokenaccess] [cas] this hash exists');
      }),
    findByHash: (hash) => calls.run('findByHash', async () => (await read(hash))?.record ?? null),
    findById: (id) =>
      calls.run('findById', async () => {
        const hash = await hashOf(id);
        return hash === null ? null : ((await read(hash))?.record ?? null);
      }),
    // read first: a fresh unlimited token costs one GET; the CAS loop runs only to write
    consume: (hash, now, policy) =>
      calls.then('consume', client.get(tokenKey(hash)), (got) =>
        judgeRead(got && decode(got.value), now.getTime(), policy, () => atomicConsume(hash, now, policy)),
      ),
    update: (id, patch) =>
      calls.run('update', async () => {
        const hash = await hashOf(id);
        if (hash === null) return null;
        return change(hash, (r) => {
          const next = applyPatch(r, patch);
          return { next, out: next };
        });
      }),
    list: (query) =>
      calls.run('list', async () => {
        const { limit, cursor } = checkListQuery('cas', query);
        const items: TokenInfo[] = [];
        for await (const r of all(cursor)) {
          if (!listMatches(r, query)) continue;
          if (items.length === limit) return { items, cursor: items[limit - 1]!.id };
          items.push(r);
        }
        return { items };
      }),
    deleteById: (id) => calls.run('deleteById', async () => remove(await hashOf(id))),
    deleteByHash: (hash) => calls.run('deleteByHash', () => remove(hash)),
    deleteBySubject: (subject) =>
      calls.run('deleteBySubject', async () => {
        let n = 0;
        for await (const r of all()) if (r.subject === subject && (await remove(r.hash))) n++;
        return n;
      }),
    sweep: (now, options) =>
      sweepInBatches('cas', options, async (size) => {
        let deleted = 0;
        for await (const r of all()) {
          if (deleted === size) return { deleted, more: true };
          if (deadReason(r, now.getTime()) && (await remove(r.hash))) deleted++;
        }
        return { deleted, more: false };
      }),
  };
}

/** An in-process stand-in for the service, answering asynchronously as a network client does. */
export function memoryKv(): KvClient {
  const data = new Map<string, { value: string; version: number }>();
  const tick = () => new Promise<void>((r) => setImmediate(r));
  return {
    get: async (key) => (await tick(), data.get(key) ?? null),
    async put(key, value, ifVersion) {
      await tick();
      if ((data.get(key)?.version ?? 0) !== ifVersion) return false;
      data.set(key, { value, version: ifVersion + 1 });
      return true;
    },
    async delete(key, ifVersion) {
      await tick();
      if (ifVersion !== undefined && data.get(key)?.version !== ifVersion) return false;
      return data.delete(key);
    },
    async scan(prefix, after, limit) {
      await tick();
      const keys = [...data.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      return keys.slice(0, limit).map((key) => ({ key, value: data.get(key)!.value }));
    },
  };
}
