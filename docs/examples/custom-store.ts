// Writing a store: implement TokenStore and run the conformance suite (see docs/writing-a-store.md).
import { DuplicateTokenError, type TokenInfo, type TokenStore, deadReason, evaluateConsume } from '@tokenaccess/core';

/** A deliberately small store over a Map, written only against the public contract. */
export function mapStore(): TokenStore {
  const rows = new Map<string, TokenInfo>(); // hash -> record
  const clone = (r: TokenInfo): TokenInfo => structuredClone(r);
  const byId = (id: string) => [...rows.values()].find((r) => r.id === id);
  return {
    async insert(record) {
      if (rows.has(record.hash) || byId(record.id)) throw new DuplicateTokenError();
      rows.set(record.hash, clone(record));
    },
    findByHash: async (hash) => (rows.has(hash) ? clone(rows.get(hash)!) : null),
    findById: async (id) => {
      const r = byId(id);
      return r ? clone(r) : null;
    },
    async consume(hash, now, policy) {
      const current = rows.get(hash);
      if (!current) return { ok: false, reason: 'not_found' };
      const out = evaluateConsume(current, now.getTime(), policy); // the reference semantics
      if (!out.ok) return { ok: false, reason: out.reason, record: clone(current) };
      if (out.write) rows.set(hash, clone(out.record));
      return { ok: true, record: clone(out.record) };
    },
    async list({ subject, kind, limit, cursor }) {
      const all = [...rows.values()]
        .filter((r) => (subject === undefined || r.subject === subject) && (kind === undefined || r.kind === kind))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .filter((r) => cursor === undefined || r.id > cursor);
      const items = all.slice(0, limit).map(clone);
      return all.length > limit ? { items, cursor: items[items.length - 1]!.id } : { items };
    },
    async deleteById(id) {
      const r = byId(id);
      if (!r) return null;
      rows.delete(r.hash);
      return r;
    },
    async deleteByHash(hash) {
      const r = rows.get(hash);
      rows.delete(hash);
      return r ?? null;
    },
    async deleteBySubject(subject) {
      let n = 0;
      for (const r of [...rows.values()]) if (r.subject === subject && rows.delete(r.hash)) n++;
      return n;
    },
    async sweep(now, options = {}) {
      let n = 0;
      for (const r of [...rows.values()]) if (deadReason(r, now.getTime()) && rows.delete(r.hash)) n++;
      options.onProgress?.(n);
      return n;
    },
  };
}
