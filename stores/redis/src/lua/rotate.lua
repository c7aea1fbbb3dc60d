-- KEYS: old session, new session. ARGV: now, old member, new member, ns, version read
-- ('' if no live session was read).
-- The moved value on success; 0 no live session under old, 2 conflict, 4 the session
-- changed since it was read, -1 corrupt.
local now, ns = ARGV[1], ARGV[4]
if not (is(KEYS[1], 'string') and is(KEYS[2], 'string')) then return -1 end
-- A live session under the new key is a conflict (new == old included).
local occupant = redis.call('GET', KEYS[2])
local o, o_index, o_age
if occupant then
  o = session(occupant)
  if not o then return -1 end
  o_index, o_age = sets(ns, o.subject)
  if not (is(o_index, 'zset') and is(o_age, 'zset')) then return -1 end
  if live(o, o_index, ARGV[3], now) then return 2 end
end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = session(v)
if not s then return -1 end
local index, age = sets(ns, s.subject)
if not (is(index, 'zset') and is(age, 'zset')) then return -1 end
if not live(s, index, ARGV[2], now) then return 0 end
-- The caller decoded the data of this version; any other is re-read first.
if s.version ~= ARGV[5] then return 4 end
-- All checks passed: from here on nothing can fail.
if o then
  redis.call('ZREM', o_index, ARGV[3])
  redis.call('ZREM', o_age, ARGV[3])
end
local ms = ttl(s.expires, now)
redis.call('SET', KEYS[2], v, 'PX', ms)
redis.call('DEL', KEYS[1])
redis.call('ZREM', index, ARGV[2])
redis.call('ZREM', age, ARGV[2])
redis.call('ZADD', index, score(s.expires), ARGV[3])
redis.call('ZADD', age, score(s.created), ARGV[3])
cover(index, ms)
cover(age, ms)
return v
