-- KEYS: session. ARGV: member, ns. 1 removed, 0 nothing there.
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return 0 end
-- Whatever else is filed under a session key goes too: remove never fails on it.
if t ~= 'string' then
  redis.call('DEL', KEYS[1])
  return 1
end
local v = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
local s = session(v)
if not s then return 1 end
local index, age = sets(ARGV[2], s.subject)
local filed = 1
if redis.call('TYPE', index).ok == 'zset' then
  -- Not in the index: remove_subject already took it.
  filed = redis.call('ZREM', index, ARGV[1])
end
if redis.call('TYPE', age).ok == 'zset' then
  redis.call('ZREM', age, ARGV[1])
end
return filed
