-- KEYS: session. ARGV: member, ns, version read, new version ('' if it can't be
-- incremented), data, idle deadline, now.
-- 1 updated, 0 no live session, 3 stale, -1 corrupt.
local member, now = ARGV[1], ARGV[7]
if not is(KEYS[1], 'string') then return -1 end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = session(v)
if not s then return -1 end
local index, age = sets(ARGV[2], s.subject)
if not (is(index, 'zset') and is(age, 'zset')) then return -1 end
if not live(s, index, member, now) then return 0 end
if s.version ~= ARGV[3] or ARGV[4] == '' then return 3 end
local idle = later(s.idle, ARGV[6])
-- The data and the version change; activity is recorded; the subject, the creation
-- time and the absolute deadline stay as stored.
local updated = string.sub(v, 1, 24) .. later(s.last_seen, now) .. ':' .. idle .. ':'
  .. s.absolute .. ':' .. ARGV[4] .. ':' .. s.subject .. ':' .. ARGV[5]
local expires = earlier(idle, s.absolute)
local ms = ttl(expires, now)
redis.call('SET', KEYS[1], updated, 'XX', 'PX', ms)
redis.call('ZADD', index, 'XX', score(expires), member)
cover(index, ms)
cover(age, ms)
return 1
