-- KEYS: session. ARGV: member, subject index prefix. 1 removed, 0 nothing there.
if not is(KEYS[1], 'string') then return redis.call('DEL', KEYS[1]) end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('DEL', KEYS[1])
local s = session(v)
if s then
  local index = ARGV[2] .. s.subject
  if redis.call('TYPE', index).ok == 'set' then
    redis.call('SREM', index, ARGV[1])
  end
end
return 1
