import { type JsonValue, type TokenInfo, type TokenStore, createTokenAccess } from '@tokenaccess/core';
import { describe, expect, it } from 'vitest';
import { at, plain, randomSubject, record } from './fixtures';

/** The largest metadata core accepts at issue, as JSON text (UTF-16 code units). */
const MAX_JSON = 64 * 1024;
/** The deepest nesting core accepts at issue: the metadata object itself is level 1. */
const MAX_DEPTH = 32;

/**
 * Metadata at the limits core accepts at issue, each as core hands it to a store (through
 * `JSON.parse(JSON.stringify(…))`, so `-0` arrives as `0`: metadata is JSON). Every store must
 * give each one back deep-equal, through every read and after every write:
 *
 * - `nesting`: 32 levels of objects and arrays, with keys that mean something elsewhere;
 * - `numbers`: ±(2^53 − 1), 0.1, −0, 1e21, 5e−324, `Number.MAX_VALUE`, 17 significant digits
 *   (Lua's cjson would write 14), 0.1 + 0.2;
 * - `text`: `é😀` in keys and values, keys with dots, spaces, a newline and `__proto__`, the empty
 *   key, control and separator characters, empty arrays and objects (cjson cannot tell them
 *   apart), an array of mixed values;
 * - `size`: one string that makes the JSON exactly 64 KiB, of 1-, 2- and 4-byte UTF-8 characters.
 *
 * @example
 * ```ts
 * for (const [name, metadata] of Object.entries(limitMetadata())) await store.insert(record({ metadata }));
 * ```
 */
export function limitMetadata(): Record<'nesting' | 'numbers' | 'text' | 'size', Record<string, JsonValue>> {
  // levels 32 (innermost) to 2, alternating arrays and objects; the metadata object is level 1
  let nested: JsonValue = 'bottom é😀';
  for (let level = MAX_DEPTH; level > 1; level--) nested = level % 2 ? [level, nested] : { [`level ${level}.key`]: nested };
  const nesting = { 'level 1': nested };

  const numbers: Record<string, JsonValue> = {
    maxSafe: 2 ** 53 - 1,
    minSafe: -(2 ** 53 - 1),
    tenth: 0.1,
    negativeZero: -0,
    big: 1e21,
    tiny: 5e-324,
    max: Number.MAX_VALUE,
    digits17: 123456789.12345679,
    sum: 0.1 + 0.2,
    small: -1.5e-7,
    list: [2 ** 53 - 1, 0.1, -0, 1e21, 1e-7, 0],
  };

  // built from JSON text: an object literal's "__proto__" would set the prototype, not a key
  const text = JSON.parse(
    JSON.stringify({
      'é😀': 'é😀',
      'dotted.key.a.b': 'dots',
      ' spaced key ': 'spaces',
      'dots and spaces. a.b c': 'both',
      '': 'the empty key',
      'line\nbreak': 'tab\there, "quoted", back\\slash, /slash',
      'control\u0001\u001f': 'separators \u2028\u2029 and a BOM \ufeff',
      ключ: 'значение',
      mixed: [1, 'two', null, true, false, {}, [], [[]], { a: [] }, 0.5, -0, '', 'é😀'],
      emptyArray: [],
      emptyObject: {},
      nothing: null,
    }).replace('{', '{"__proto__":{"polluted":true},'),
  ) as Record<string, JsonValue>;

  const pattern = 'é😀x'; // 1 + 2 + 1 code units; 2 + 4 + 1 bytes of UTF-8
  const room = MAX_JSON - JSON.stringify({ big: '' }).length;
  const big = pattern.repeat(Math.floor(room / pattern.length)) + 'x'.repeat(room % pattern.length);
  const size = { big };

  const out = { nesting, numbers, text, size };
  return JSON.parse(JSON.stringify(out)) as typeof out;
}

/** Depth of a JSON value, the way core counts it (a container is one level). */
function depth(v: JsonValue): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depth));
}

/** Input at the limits of what core accepts (metadata, names, subjects, scopes): every store holds it exactly. */
export function metadataTests(store: () => TokenStore, reader: () => TokenStore): void {
  describe('input at the limits core accepts: metadata and text', () => {
    it('the cases are at the limits (64 KiB of JSON, 32 levels)', () => {
      const m = limitMetadata();
      expect(JSON.stringify(m.size).length).toBe(MAX_JSON);
      expect(depth(m.nesting)).toBe(MAX_DEPTH);
      expect(Object.keys(m.text)).toContain('__proto__');
      expect(Object.getPrototypeOf(m.text)).toBe(Object.prototype);
    });

    for (const [name, metadata] of Object.entries(limitMetadata())) {
      it(`round-trips ${name} exactly through every read, a second store instance, consume and list`, async () => {
        const subject = randomSubject();
        const r: TokenInfo = record({ subject, metadata, maxUses: 3 });
        await store().insert(r);
        // what the writing instance wrote, read back by it and by another instance
        for (const s of [store(), reader()]) {
          expect(await s.findByHash(r.hash)).toEqual(r);
          expect(await s.findById(r.id)).toEqual(r);
          expect((await s.list({ subject, limit: 10 })).items).toEqual([r]);
        }
        // a counted use rewrites the record (a script, an UPDATE, a pipeline): metadata stays
        const t1 = at(1000);
        const first = await store().consume(r.hash, t1, plain());
        expect(first).toEqual({ ok: true, record: { ...r, uses: 1, lastUsedAt: t1 } });
        const t2 = at(2000);
        const second = await reader().consume(r.hash, t2, plain({ lastUsedResolution: 0 }));
        expect(second).toEqual({ ok: true, record: { ...r, uses: 2, lastUsedAt: t2 } });
        for (const s of [store(), reader()]) expect(await s.findByHash(r.hash)).toEqual({ ...r, uses: 2, lastUsedAt: t2 });
        // a refusal hands the record back as stored
        const refused = await store().consume(r.hash, at(3000), plain({ url: { canonical: '/x', method: 'GET' } }));
        expect(refused).toEqual({ ok: false, reason: 'url_mismatch', record: { ...r, uses: 2, lastUsedAt: t2 } });
        expect(await reader().deleteById(r.id)).toEqual({ ...r, uses: 2, lastUsedAt: t2 });
      });
    }

    it('round-trips name, subject and scopes at the limits: 512 characters of é😀, braces, separators', async () => {
      const long = 'é😀x'.repeat(128); // 512 UTF-16 code units, 896 bytes of UTF-8
      const subject = `${randomSubject()} {tag} }{ é😀 \u2028`;
      const r: TokenInfo = record({ subject, name: long, scopes: [`files:${'é😀'.repeat(100)}`, 'a{b}c', 'x.y:z/*'] });
      await store().insert(r);
      for (const s of [store(), reader()]) {
        expect(await s.findById(r.id)).toEqual(r);
        expect((await s.list({ subject, limit: 10 })).items).toEqual([r]);
      }
      const ok = await reader().consume(r.hash, at(), plain({ scopes: { mode: 'all', anyOf: [['a{b}c']] } }));
      expect(ok.ok && ok.record.name).toBe(long);
      expect(await reader().deleteBySubject(subject)).toBe(1);
    });

    it('issued through createTokenAccess, comes back from verify and list unchanged', async () => {
      const tokens = createTokenAccess({ store: store() });
      const subject = randomSubject();
      const sent = limitMetadata();
      const issued = [];
      for (const metadata of Object.values(sent)) issued.push(await tokens.issue({ subject, name: 'limits', metadata }));
      for (const [i, metadata] of Object.values(sent).entries()) {
        const r = await tokens.verify(issued[i]!.token);
        expect(r.ok && r.token.metadata).toEqual(metadata);
        expect((await reader().findById(issued[i]!.info.id))?.metadata).toEqual(metadata);
      }
      const listed = await createTokenAccess({ store: reader() }).list({ subject });
      expect(listed.items.map((t) => t.metadata)).toEqual(Object.values(sent));
    });
  });
}
