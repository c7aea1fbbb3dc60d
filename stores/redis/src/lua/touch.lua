-- KEYS: session. ARGV: idle deadline, now, member, subject index prefix.
-- 1 touched, 0 no live session, -1 corrupt.
if not is(KEYS[1], 'string') then return -1 end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = session(v)
if not s then return -1 end
if not before(ARGV[2], s.expires) then return 0 end
local index = ARGV[4] .. s.subject
if not is(index, 'set') then return -1 end
local idle = later(s.idle, ARGV[1])
-- Rewrite last_seen (bytes 25-44) and the idle deadline (46-65); keep everything else.
local touched = string.sub(v, 1, 24) .. later(s.last_seen, ARGV[2]) .. ':' .. idle
  .. string.sub(v, 66)
local ms = ttl(earlier(idle, s.absolute), ARGV[2])
redis.call('SET', KEYS[1], touched, 'XX', 'PX', ms)
redis.call('SADD', index, ARGV[3])
cover(index, ms)
return 1
