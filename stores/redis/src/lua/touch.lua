-- KEYS: session. ARGV: idle deadline, now, member, ns, version read.
-- 1 touched, 0 no live session, 4 the version changed since it was read, -1 corrupt.
local now, member = ARGV[2], ARGV[3]
if not is(KEYS[1], 'string') then return -1 end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = session(v)
if not s then return -1 end
local index, age = sets(ARGV[4], s.subject)
if not (is(index, 'zset') and is(age, 'zset')) then return -1 end
if not live(s, index, member, now) then return 0 end
if s.version ~= ARGV[5] then return 4 end
local idle = later(s.idle, ARGV[1])
-- Rewrite last_seen (bytes 25-44) and the idle deadline (46-65); keep everything else.
local touched = string.sub(v, 1, 24) .. later(s.last_seen, now) .. ':' .. idle
  .. string.sub(v, 66)
local expires = earlier(idle, s.absolute)
local ms = ttl(expires, now)
redis.call('SET', KEYS[1], touched, 'XX', 'PX', ms)
redis.call('ZADD', index, 'XX', score(expires), member)
cover(index, ms)
cover(age, ms)
return 1
