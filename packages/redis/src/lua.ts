/**
 * The Lua scripts. Each one touches a single key (the token key `t:{hash}`, or for the
 * compare-and-set scripts one id-map bucket `i:<n>`, or a v1 id key `i:{id}`), so it is atomic on a standalone Redis and on a
 * Cluster alike. They read the record format of `record.ts`:
 * `<uses>|<lastUsedAt>|[<rateCount>|]<json>`: `consume` rewrites only the leading fields,
 * `update` only the JSON.
 */

// Parses KEYS[1]'s value into locals v, uses, last, rc (rateCount, nil until counted), body, r
// (nil v when the key is missing). The body starts with '{'; anything else there is rateCount.
const READ = `
local v = redis.call('GET', KEYS[1])
local uses, last, rc, body, r
if v then
  local p1 = string.find(v, '|', 1, true)
  local p2 = string.find(v, '|', p1 + 1, true)
  uses = tonumber(string.sub(v, 1, p1 - 1))
  last = tonumber(string.sub(v, p1 + 1, p2 - 1))
  if string.byte(v, p2 + 1) == 123 then
    body = string.sub(v, p2 + 1)
  else
    local p3 = string.find(v, '|', p2 + 1, true)
    rc = tonumber(string.sub(v, p2 + 1, p3 - 1))
    body = string.sub(v, p3 + 1)
  end
  r = cjson.decode(body)
end
-- usesAt of core: the uses that count at now; a refilling token (r.r = refill.every) starts
-- again from 0 in a later period than its last use (periods counted from createdAt)
local function used(now)
  if not r.r then return uses end
  if not last then return 0 end
  if math.floor((last - r.c) / r.r) < math.floor((now - r.c) / r.r) then return 0 end
  return uses
end
-- rateCountAt of core: the verifications counted in the rate window of now (r.q = limit, r.w =
-- window ms): rc, or 0 when now lies in a later window than the last use (windows from createdAt)
local function rated(now)
  if not last then return 0 end
  if math.floor((last - r.c) / r.w) < math.floor((now - r.c) / r.w) then return 0 end
  return rc or 0
end
-- deadAt of core: expired (absolute, then idle) before exhausted
local function dead(now)
  if r.e and r.e <= now then return 'expired' end
  if r.i and (last or r.c) + r.i <= now then return 'expired' end
  if r.x and used(now) >= r.x then return 'exhausted' end
  return nil
end
-- sweepable of core: expired, or used up for good (a refilling token's budget comes back)
local function sweepable(now)
  local why = dead(now)
  return why == 'expired' or (why == 'exhausted' and not r.r)
end
-- purgeAt of core: when Redis may drop the record (PXAT), or nil to keep it (never a
-- tombstone TTL for a refilling token)
local function purge_at(grace, tombstone)
  local dl = r.e
  if r.i then
    local idle = (last or r.c) + r.i
    if (not dl) or idle < dl then dl = idle end
  end
  if dl then return dl + grace end
  if r.x and (not r.r) and uses >= r.x then return (last or r.c) + tombstone end
  return nil
end
-- writes nv to KEYS[1] with purge_at as its PXAT (a plain SET drops any TTL)
local function save(nv, grace, tombstone)
  local at = purge_at(tonumber(grace), tonumber(tombstone))
  if at then
    redis.call('SET', KEYS[1], nv, 'PXAT', string.format('%.0f', at))
  else
    redis.call('SET', KEYS[1], nv)
  end
end
`;

/**
 * `consume`: core's `evaluateConsume`, natively. KEYS[1] = token key. ARGV: now, lastUsedResolution,
 * url? ('1'|'0'), canonical, method, origin? ('1'|'0'), origin, scope mode ('' | 'all' | 'any'),
 * anyOf as JSON, ttlGrace, tombstone (ms). Returns `{ outcome, value }` where outcome is `ok`,
 * `ok_spent` (this use exhausted the token for good), `not_found` or a refusal reason (`disabled`
 * first); `value` is the record after the use.
 *
 * A refilling token (`r`) counts from 0 in a new period (`used`, core's `usesAt`), inside this
 * one script, so the count stays exact however many consumes race across a period boundary.
 * A rate-limited token (`q`, `w`) is refused `rate_limited` last, after the scope check, when
 * its window is full (`rated`, core's `rateCountAt`), writing nothing; otherwise it counts one
 * in `rateCount` and always sets `lastUsedAt` (never back), in the same write as the use.
 *
 * The use that exhausts a token keeps its record (the tombstone): later calls answer `exhausted`,
 * as on every store, until Redis's TTL or `sweep` removes it. Its TTL is core's `purgeAt`: its
 * deadline (plus the grace) when it has one, else its last use plus the tombstone time; a
 * refilling token gets no tombstone TTL and is never `ok_spent` (its budget comes back).
 */
export const CONSUME = `${READ}
if not v then return {'not_found'} end
if r.d then return {'disabled', v} end
local now = tonumber(ARGV[1])
local why = dead(now)
if why then return {why, v} end
local b = r.b
if ARGV[3] == '1' then
  local match = false
  if b and b.c == ARGV[4] then
    for _, m in ipairs(b.m) do
      if m == ARGV[5] then match = true break end
    end
    if match and ARGV[6] == '1' and b.o and b.o ~= ARGV[7] then match = false end
  end
  if not match then return {'url_mismatch', v} end
elseif b then
  return {'url_mismatch', v}
end
if ARGV[8] ~= '' then
  local held = {}
  for _, s in ipairs(r.s) do held[s] = true end
  local all = ARGV[8] == 'all'
  local pass = all
  for _, list in ipairs(cjson.decode(ARGV[9])) do
    local hit = false
    for _, s in ipairs(list) do
      if held[s] then hit = true break end
    end
    if all and not hit then pass = false break end
    if (not all) and hit then pass = true break end
  end
  if not pass then return {'insufficient_scope', v} end
end
local limited = r.q ~= nil
local rate = 0
if limited then
  rate = rated(now)
  if rate >= r.q then return {'rate_limited', v} end
end
local count = r.x ~= nil
-- a refilling counted token records every use: its lastUsedAt says which period uses counts;
-- a rate-limited one likewise says which window rateCount counts
local touch = (last == nil) or (now - last >= tonumber(ARGV[2])) or (count and r.r ~= nil) or limited
if (not count) and (not touch) then return {'ok', v} end
if count then uses = used(now) + 1 end
if limited then rc = rate + 1 end
-- lastUsedAt never moves back (a late use from an earlier period counts against the later one)
if touch and ((last == nil) or now > last) then last = now end
local nv = string.format('%.0f|%.0f|', uses, last)
if rc then nv = nv .. string.format('%.0f|', rc) end
nv = nv .. body
save(nv, ARGV[10], ARGV[11])
if count and (not r.r) and uses >= r.x then return {'ok_spent', nv} end
return {'ok', nv}
`;

/**
 * `update`: replaces the body (the JSON) of the record with id ARGV[1] by ARGV[3] when it is
 * still ARGV[2] (what the client read and patched with core's `applyPatch`), keeping `uses`,
 * `lastUsedAt` and `rateCount` as they are now, and re-sets the TTL (core's `purgeAt`, grace ARGV[4], tombstone
 * ARGV[5] ms). Returns `{ 'ok', value }`, `{ 'changed', value }` (another update came first:
 * patch this value and try again) or `{ 'not_found' }`. The patch is applied in the client, not
 * here, because cjson would rewrite the JSON (numbers rounded to 14 digits, `[]` as `{}`);
 * a `consume` never changes the body, so counting never makes an update try again.
 */
export const UPDATE = `${READ}
if (not v) or r.id ~= ARGV[1] then return {'not_found'} end
if body ~= ARGV[2] then return {'changed', v} end
local nv = string.sub(v, 1, #v - #body) .. ARGV[3]
r = cjson.decode(ARGV[3])
save(nv, ARGV[4], ARGV[5])
return {'ok', nv}
`;

/**
 * Deletes the token when its record has id ARGV[1] (or ARGV[1] is empty); returns the deleted
 * value or nil. The id check keeps a stale index entry from deleting someone else's record.
 */
export const DELETE = `${READ}
if not v then return false end
if ARGV[1] ~= '' and r.id ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
return v
`;

/**
 * For sweep: deletes the token when it is dead for good at ARGV[1] (ms: core's `sweepable`, so
 * never a refilling token used up only for its current period) and has id ARGV[2]. Returns
 * `{ 'deleted', subject, parentId }` (empty strings for none: what the sweep must still take out
 * of the subject and parent indexes, without sending the record back), `{ 'alive', value }`,
 * `{ 'missing' }` (no such key) or `{ 'other' }` (the key holds another id's record).
 */
export const SWEEP_ONE = `${READ}
if not v then return {'missing'} end
if r.id ~= ARGV[2] then return {'other'} end
if sweepable(tonumber(ARGV[1])) then
  redis.call('DEL', KEYS[1])
  return {'deleted', r.sub or '', r.p or ''}
end
return {'alive', v}
`;

/**
 * Deletes the id key KEYS[1] when it leads to hash ARGV[1]: its value is ARGV[1], or a claim
 * `?<ms>:ARGV[1]` (compare-and-delete).
 */
export const DELETE_IF = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local h = ARGV[1]
if v == h or (string.sub(v, 1, 1) == '?' and string.sub(v, -#h - 1) == ':' .. h) then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Deletes field ARGV[1] of the id-map bucket KEYS[1] when it leads to compact hash ARGV[2]: its
 * value is ARGV[2], or a claim `?<ms>:ARGV[2]` (compare-and-delete).
 */
export const HDEL_IF = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local h = ARGV[2]
if v == h or (string.sub(v, 1, 1) == '?' and string.sub(v, -#h - 1) == ':' .. h) then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
`;

/** Sets field ARGV[1] of KEYS[1] to ARGV[3] when its value is ARGV[2] (compare-and-set). */
export const HSET_IF = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
`;
