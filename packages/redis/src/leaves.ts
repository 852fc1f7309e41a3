import { type TokenInfo, type TokenKind, timeDeadline } from '@tokenaccess/core/store';
import { type Connection, script } from './client';
import { kindLetter, kindOf } from './keys';

/**
 * The token index of layout v3: every token by id, with the key of its record and when it is due
 * for `sweep`, in a few bytes per token. One per bucket (`tka:{ix:<b>}`, a token in bucket
 * fnv1a(id) mod `buckets`), each a one-level B+-tree of small sorted sets:
 *
 * - **leaves** `tka:{ix:<b>}:<n>`: at most {@link LEAF_MAX} members each, so each stays in Redis's
 *   compact listpack encoding (up to 128 members of up to 64 bytes). A member is
 *   `<id>\0<kind letter><hash>`, the hash packed: `h` and 32 raw bytes for a SHA-256 in hex,
 *   `k<keyId>:` and 32 raw bytes for a peppered one, `=` and the hash itself for anything else
 *   (an imported legacy format). A ULID id makes a 61-byte member. Its score says when `sweep`
 *   should look at it: the token's deadline in whole seconds (rounded down), 0 when it is used
 *   up for good, `+inf` when it never dies, and minus the claim time (ms) while its insert is in
 *   flight (so a sweep also finds inserts that crashed).
 * - **the directory** `tka:{ix:<b>}`: one member per leaf, `<lowest id>\0<n>`, in id order: the
 *   leaf of an id is the last one whose lowest id is not above it.
 * - `tka:{ix:<b>}:n`, the counter that numbers the leaves.
 *
 * All of a bucket's keys share its hash tag, so each script below touches one slot. Leaves are
 * ordered by score, not by id, so a lookup reads the leaf (at most 118 members) and compares
 * bytes; a `list` page sorts each leaf by id on the client. Comparisons of order are left to
 * Redis (lexicographic ranges, a scratch sorted set when a leaf splits), never to Lua's `<`, which
 * follows the server's locale.
 *
 * This replaces layout v2's id map (`i:<n>`), `all` buckets and `exp` buckets: 81 + 118 + 134
 * bytes per token at 1e6 tokens became one member of about 70 bytes.
 */

/**
 * Most members a leaf holds: a leaf splits past it, before Redis's listpack limit of 128 (a zset
 * that passes it becomes a skiplist and stays one). 118 because a leaf of ULID-keyed SHA-256
 * members (61 bytes, 63 in the listpack) with a deadline (6) then just fits the allocator's 8 KiB
 * size class: 118 × 69 + 7 = 8,149 bytes; 119 would take the 10 KiB one (bench/scale at 1e5 with
 * 120: 85.7 bytes per token).
 */
export const LEAF_MAX = 118;

/** Score of a token that never becomes due. */
const NEVER = '+inf';

// Shared by every script: KEYS[1] is the bucket's directory. Locals: dir, and the helpers.
const PRELUDE = `
local dir = KEYS[1]
local function leaf_of(e)
  return dir .. ':' .. string.sub(e, string.find(e, '\\0', 1, true) + 1)
end
-- the directory entry of the leaf that holds (or would hold) id, and whether id is below them all
local function locate(id)
  local e = redis.call('ZREVRANGEBYLEX', dir, '(' .. id .. '\\1', '-', 'LIMIT', 0, 1)[1]
  if e then return e, false end
  return redis.call('ZRANGE', dir, 0, 0)[1], true
end
-- id's member in leaf, and its score
local function find(leaf, id)
  local p = id .. '\\0'
  local all = redis.call('ZRANGE', leaf, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, #p) == p then return all[i], all[i + 1] end
  end
  return nil, nil
end
-- 32 bytes ⇄ 64 hex digits, in a few C calls (no Lua function per byte: these run for every
-- entry a script reads or writes)
local function tohex(s)
  return string.format(string.rep('%02x', #s), string.byte(s, 1, -1))
end
local function fromhex(h)
  local b = {}
  for i = 1, #h, 2 do b[#b + 1] = tonumber(string.sub(h, i, i + 1), 16) end
  return string.char(unpack(b))
end
local function pack(h)
  if #h == 64 and not string.find(h, '[^0-9a-f]') then return 'h' .. fromhex(h) end
  local kid, hex = string.match(h, '^([A-Za-z0-9_%-]+):([0-9a-f]+)$')
  if kid and #kid <= 32 and #hex == 64 then return 'k' .. kid .. ':' .. fromhex(hex) end
  return '=' .. h
end
local function unpack_hash(p)
  local f = string.sub(p, 1, 1)
  if f == 'h' then return tohex(string.sub(p, 2)) end
  if f == 'k' then return string.sub(p, 2, #p - 33) .. ':' .. tohex(string.sub(p, #p - 31)) end
  return string.sub(p, 2)
end
local function member(id, k, h)
  return id .. '\\0' .. k .. pack(h)
end
-- id, kind letter, hash of a member
local function parse(m)
  local z = string.find(m, '\\0', 1, true)
  return string.sub(m, 1, z - 1), string.sub(m, z + 1, z + 1), unpack_hash(string.sub(m, z + 2))
end
-- id's directory entry, leaf, member, score, kind letter and hash; nil when the id is not filed
local function lookup(id)
  local e = locate(id)
  if not e then return nil end
  local leaf = leaf_of(e)
  local m, score = find(leaf, id)
  if not m then return nil end
  local _, k, h = parse(m)
  return e, leaf, m, score, k, h
end
-- appends a leaf's members (id, kind, hash, score) to out
local function emit(out, all)
  for i = 1, #all, 2 do
    local id, k, h = parse(all[i])
    out[#out + 1] = id
    out[#out + 1] = k
    out[#out + 1] = h
    out[#out + 1] = all[i + 1]
  end
end
`;

/**
 * `claim`: files id ARGV[1] (kind ARGV[2], hash ARGV[3]) with score ARGV[4], unless the id is
 * filed already: then returns `{ kind, hash, score }` of that entry; else `false`. A leaf past
 * LEAF_MAX members splits: an id above all its others (ids are ULIDs, they grow) starts a new
 * leaf and leaves this one full, an id below all its others (an import, newest first) keeps
 * this leaf to itself and moves the others, full, to a new one; any other splits it in half.
 */
const ADD = `${PRELUDE}
local id = ARGV[1]
local e, below = locate(id)
if not e then
  local n = redis.call('INCR', dir .. ':n')
  redis.call('ZADD', dir, 0, id .. '\\0' .. n)
  redis.call('ZADD', dir .. ':' .. n, ARGV[4], member(id, ARGV[2], ARGV[3]))
  return false
end
local leaf = leaf_of(e)
local old, score = find(leaf, id)
if old then
  local _, k, h = parse(old)
  return {k, h, score}
end
if below then
  -- the leaf keeps its number and takes this id as its lowest (string.find returns two values:
  -- only the first is the position)
  local z = string.find(e, '\\0', 1, true)
  redis.call('ZREM', dir, e)
  redis.call('ZADD', dir, 0, id .. string.sub(e, z))
end
local m = member(id, ARGV[2], ARGV[3])
redis.call('ZADD', leaf, ARGV[4], m)
if redis.call('ZCARD', leaf) <= ${LEAF_MAX} then return false end
-- split: the members in id order (a scratch zset sorts them as Redis sorts, by bytes)
local all = redis.call('ZRANGE', leaf, 0, -1, 'WITHSCORES')
local scores, args = {}, {}
for i = 1, #all, 2 do
  scores[all[i]] = all[i + 1]
  args[#args + 1] = 0
  args[#args + 1] = all[i]
end
local tmp = dir .. ':sort'
redis.call('DEL', tmp)
redis.call('ZADD', tmp, unpack(args))
local sorted = redis.call('ZRANGE', tmp, 0, -1)
redis.call('DEL', tmp)
local keep = math.floor(#sorted / 2)
if sorted[#sorted] == m then keep = #sorted - 1 elseif sorted[1] == m then keep = 1 end
local n = redis.call('INCR', dir .. ':n')
local add, rem = {}, {}
for i = keep + 1, #sorted do
  add[#add + 1] = scores[sorted[i]]
  add[#add + 1] = sorted[i]
  rem[#rem + 1] = sorted[i]
end
redis.call('ZADD', dir .. ':' .. n, unpack(add))
redis.call('ZREM', leaf, unpack(rem))
local first = parse(sorted[keep + 1])
redis.call('ZADD', dir, 0, first .. '\\0' .. n)
return false
`;

/** `get`: `{ kind, hash, score }` of id ARGV[1], or `false`. */
const GET = `${PRELUDE}
local e, _, _, score, k, h = lookup(ARGV[1])
if not e then return false end
return {k, h, score}
`;

/**
 * `set` (compare-and-set): when id ARGV[1] is filed with hash ARGV[2] (and score ARGV[3], unless
 * it is empty), files it again as kind ARGV[4], hash ARGV[5], score ARGV[6]. Returns 1, or 0 when
 * the entry is not the one expected.
 */
const SET = `${PRELUDE}
local id = ARGV[1]
local e, leaf, m, score, _, h = lookup(id)
if not e then return 0 end
if h ~= ARGV[2] or (ARGV[3] ~= '' and score ~= ARGV[3]) then return 0 end
local nm = member(id, ARGV[4], ARGV[5])
if nm ~= m then redis.call('ZREM', leaf, m) end
redis.call('ZADD', leaf, ARGV[6], nm)
return 1
`;

/**
 * `remove` (compare-and-delete): removes id ARGV[1] when it leads to hash ARGV[2] (any, when
 * empty) and has score ARGV[3] (any, when empty). An emptied leaf goes with its directory entry.
 * Returns 1 or 0.
 */
const REMOVE = `${PRELUDE}
local e, leaf, m, score, _, h = lookup(ARGV[1])
if not e then return 0 end
if (ARGV[2] ~= '' and h ~= ARGV[2]) or (ARGV[3] ~= '' and score ~= ARGV[3]) then return 0 end
redis.call('ZREM', leaf, m)
if redis.call('EXISTS', leaf) == 0 then
  redis.call('ZREM', dir, e)
  -- the last leaf gone: so is its counter, and an emptied store leaves no key
  if redis.call('EXISTS', dir) == 0 then redis.call('DEL', dir .. ':n') end
end
return 1
`;

/**
 * `removeMany` (compare-and-delete, many): ARGV holds triples id, hash, score, all of ids in this
 * bucket; each is removed when it is filed with that hash and score. Each leaf is read once,
 * however many of its entries go. Returns how many were removed.
 */
const REMOVE_MANY = `${PRELUDE}
local leaves = {}
local removed = 0
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  local e = locate(id)
  if e then
    local l = leaves[e]
    if not l then
      l = {}
      local all = redis.call('ZRANGE', leaf_of(e), 0, -1, 'WITHSCORES')
      for j = 1, #all, 2 do
        local z = string.find(all[j], '\\0', 1, true)
        l[string.sub(all[j], 1, z - 1)] = {all[j], all[j + 1]}
      end
      leaves[e] = l
    end
    local m = l[id]
    if m and m[2] == ARGV[i + 2] then
      local _, _, h = parse(m[1])
      if h == ARGV[i + 1] then
        redis.call('ZREM', leaf_of(e), m[1])
        l[id] = nil
        removed = removed + 1
      end
    end
  end
end
for e in pairs(leaves) do
  if redis.call('EXISTS', leaf_of(e)) == 0 then redis.call('ZREM', dir, e) end
end
if redis.call('EXISTS', dir) == 0 then redis.call('DEL', dir .. ':n') end
return removed
`;

/**
 * `range`: the members of the leaf of id ARGV[1] (of the first leaf when empty) and of the leaves
 * after it, whole leaves, until at least ARGV[2] members past that first leaf (or, from the
 * start, in all). Returns `{ more, member, score, … }` with the members as stored (binary: read
 * with Buffer replies, unpacked by the client): more is 1 when leaves are left. Leaves are not
 * sorted by id: the client sorts and drops what is not after ARGV[1].
 */
const RANGE = `${PRELUDE}
local e
if ARGV[1] == '' then e = redis.call('ZRANGE', dir, 0, 0)[1] else e = locate(ARGV[1]) end
local want = tonumber(ARGV[2])
local out = {0}
local counted = ARGV[1] == ''
local got = 0
while e do
  local all = redis.call('ZRANGE', leaf_of(e), 0, -1, 'WITHSCORES')
  for i = 1, #all do out[#out + 1] = all[i] end
  if counted then got = got + #all / 2 end
  counted = true
  e = redis.call('ZRANGEBYLEX', dir, '(' .. e, '+', 'LIMIT', 0, 1)[1]
  if got >= want then break end
end
if e then out[1] = 1 end
return out
`;

/**
 * `due`: for sweep, the members with a score up to ARGV[2] (seconds) in the leaves after
 * directory entry ARGV[1] (from the first when empty), whole leaves, until at least ARGV[3]
 * members or 64 leaves. Returns `{ next, id, kind, hash, score, … }`: next is the directory entry
 * to go on after, or empty when the bucket is done.
 */
const DUE = `${PRELUDE}
local e
if ARGV[1] == '' then e = redis.call('ZRANGE', dir, 0, 0)[1] else e = redis.call('ZRANGEBYLEX', dir, '(' .. ARGV[1], '+', 'LIMIT', 0, 1)[1] end
local want = tonumber(ARGV[3])
local out = {''}
local leaves = 0
while e do
  emit(out, redis.call('ZRANGEBYSCORE', leaf_of(e), '-inf', ARGV[2], 'WITHSCORES'))
  leaves = leaves + 1
  if (#out - 1) / 4 >= want or leaves >= 64 then
    if redis.call('ZRANGEBYLEX', dir, '(' .. e, '+', 'LIMIT', 0, 1)[1] then out[1] = e end
    return out
  end
  e = redis.call('ZRANGEBYLEX', dir, '(' .. e, '+', 'LIMIT', 0, 1)[1]
end
return out
`;

const scripts = { add: script(ADD), get: script(GET), set: script(SET), remove: script(REMOVE), removeMany: script(REMOVE_MANY), range: script(RANGE), due: script(DUE) };

/** An index entry: a token's id, kind, hash, and its score (see the module comment). */
export interface Filed {
  id: string;
  kind: TokenKind;
  hash: string;
  /** As Redis prints it: seconds, `inf`, or minus the claim time in ms while pending. */
  score: string;
}

/** The claim time of an entry whose insert is unfinished (a negative score), or undefined. */
export function pendingSince(score: string): number | undefined {
  return score.startsWith('-') && score !== '-inf' ? -Number(score) : undefined;
}

/**
 * When `sweep` should look at a record (ms): its time deadline, or 0 when it is stored used up
 * for good (dead now, so the next `sweep` deletes it; a refilling token is not: its budget comes
 * back); undefined when never.
 * @internal
 */
export function dueAt(record: TokenInfo): number | undefined {
  if (record.maxUses !== undefined && record.refill === undefined && record.uses >= record.maxUses) return 0;
  return timeDeadline(record);
}

/** The score of a time from {@link dueAt} (ms, or undefined for never): whole seconds, rounded down. */
export function scoreOf(due: number | undefined): string {
  return due === undefined ? NEVER : String(Math.floor(due / 1000));
}

/** The score a record is filed under. */
export function recordScore(record: TokenInfo): string {
  return scoreOf(dueAt(record));
}

/** The score of an entry whose insert started at `ms` and is not finished. */
export function pendingScore(ms: number): string {
  return String(-ms);
}

const filed = (id: string, raw: [string, string, string]): Filed => ({ id, kind: kindOf(raw[0]), hash: raw[1], score: raw[2] });

function entries(flat: string[], from: number): Filed[] {
  const out: Filed[] = [];
  for (let i = from; i < flat.length; i += 4) out.push({ id: flat[i]!, kind: kindOf(flat[i + 1]), hash: flat[i + 2]!, score: flat[i + 3]! });
  return out;
}

/** An entry read by `range`, with its id's bytes: ids are ordered as Redis orders them, by bytes. */
export interface Ranged extends Filed {
  key: Buffer;
}

/** A stored member (`<id>\0<kind letter><packed hash>`) unpacked, as the scripts' `parse` does. */
function unpackMember(m: Buffer, score: string): Ranged {
  const z = m.indexOf(0);
  const format = m[z + 2];
  const payload = m.subarray(z + 3);
  const hash =
    format === 0x68 /* h */
      ? payload.toString('hex')
      : format === 0x6b /* k */
        ? `${payload.toString('utf8', 0, payload.length - 33)}:${payload.subarray(payload.length - 32).toString('hex')}`
        : payload.toString('utf8');
  const key = m.subarray(0, z);
  return { id: key.toString('utf8'), kind: kindOf(String.fromCharCode(m[z + 1]!)), hash, score, key };
}

/** The token index (see the module comment). @internal */
export interface LeafIndex {
  get(id: string, what: string): Promise<Filed | null>;
  /** Files the id unless it is filed already; returns what is filed then, or null when this filed it. */
  add(id: string, kind: TokenKind, hash: string, score: string, what: string): Promise<Filed | null>;
  /** Compare-and-set: re-files the id when it is filed with `hash` (and `score`, when given). */
  set(id: string, expect: { hash: string; score?: string }, kind: TokenKind, hash: string, score: string, what: string): Promise<boolean>;
  /** Compare-and-delete: removes the id when it leads to `hash` (any when undefined) and has `score` (any when undefined). */
  remove(id: string, hash: string | undefined, what: string, score?: string): Promise<boolean>;
  /** Compare-and-delete of many entries of bucket `dir` (each with its hash and score, as filed); returns how many went. */
  removeMany(dir: string, entries: Filed[], what: string): Promise<number>;
  /** The entries of bucket `dir` after id `after` (from the start when undefined), in id order, at least `n` unless the bucket ends. */
  range(dir: string, after: string | undefined, n: number, what: string): Promise<{ entries: Ranged[]; more: boolean }>;
  /** For sweep: entries of bucket `dir` due at `nowMs`, whole leaves after directory entry `from`; `next` is where to go on, undefined when done. */
  due(dir: string, from: string | undefined, nowMs: number, n: number): Promise<{ entries: Filed[]; next: string | undefined }>;
}

/** @internal */
export function leafIndex({ keys, run, runBuffer }: Connection): LeafIndex {
  return {
    async get(id, what) {
      const raw = (await run(what, scripts.get, keys.index(id), [id])) as [string, string, string] | null;
      return raw ? filed(id, raw) : null;
    },
    async add(id, kind, hash, score, what) {
      const raw = (await run(what, scripts.add, keys.index(id), [id, kindLetter(kind), hash, score])) as [string, string, string] | null;
      return raw ? filed(id, raw) : null;
    },
    async set(id, expect, kind, hash, score, what) {
      return (await run(what, scripts.set, keys.index(id), [id, expect.hash, expect.score ?? '', kindLetter(kind), hash, score])) === 1;
    },
    async remove(id, hash, what, score) {
      return (await run(what, scripts.remove, keys.index(id), [id, hash ?? '', score ?? ''])) === 1;
    },
    async removeMany(dir, list, what) {
      if (list.length === 0) return 0;
      return (await run(what, scripts.removeMany, dir, list.flatMap((f) => [f.id, f.hash, f.score]))) as number;
    },
    async range(dir, after, n, what) {
      const flat = (await runBuffer(what, scripts.range, dir, [after ?? '', n])) as [number, ...Buffer[]];
      const members: [Buffer, Buffer][] = [];
      for (let i = 1; i < flat.length; i += 2) members.push([flat[i] as Buffer, flat[i + 1] as Buffer]);
      // byte order of the members is the ids' order: `<id>\0` comes before any longer id
      members.sort((a, b) => Buffer.compare(a[0], b[0]));
      let start = 0;
      if (after !== undefined) {
        // the first leaf's entries up to `after`: members are `<id>\0…`, so `<after>\0` and
        // below are not after it
        const bound = Buffer.concat([Buffer.from(after), Buffer.from([0, 0xff])]);
        while (start < members.length && Buffer.compare(members[start]![0], bound) < 0) start++;
      }
      return { entries: members.slice(start).map(([m, score]) => unpackMember(m, score.toString())), more: Number(flat[0]) === 1 };
    },
    async due(dir, from, nowMs, n) {
      const flat = (await run('sweep', scripts.due, dir, [from ?? '', Math.floor(nowMs / 1000), n])) as string[];
      return { entries: entries(flat, 1), next: flat[0] === '' ? undefined : flat[0] };
    },
  };
}
