-- KEYS: session. ARGV: member, ns, subject hex, now. 1 removed, 0 not a live session of
-- that subject.
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local v = redis.call('GET', KEYS[1])
local s = session(v)
if not s or s.subject ~= ARGV[3] then return 0 end
local index, age = sets(ARGV[2], s.subject)
if not (is(index, 'zset') and is(age, 'zset')) then return 0 end
if not live(s, index, ARGV[1], ARGV[4]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', index, ARGV[1])
redis.call('ZREM', age, ARGV[1])
return 1
