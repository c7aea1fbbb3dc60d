-- KEYS: old session, new session. ARGV: now, old member, new member, subject index prefix.
-- The moved value on success; 0 no live session under old, 2 conflict, -1 corrupt.
if not is(KEYS[1], 'string') then return -1 end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = session(v)
if not s then return -1 end
if not before(ARGV[1], s.expires) then return 0 end
if KEYS[1] == KEYS[2] then return 2 end
if not is(KEYS[2], 'string') then return -1 end
local occupant = redis.call('GET', KEYS[2])
if occupant then
  local o = session(occupant)
  if not o then return -1 end
  if before(ARGV[1], o.expires) then return 2 end
end
local index = ARGV[4] .. s.subject
if not is(index, 'set') then return -1 end
-- All checks passed: from here on nothing can fail.
local ms = ttl(s.expires, ARGV[1])
redis.call('SET', KEYS[2], v, 'PX', ms)
redis.call('DEL', KEYS[1])
redis.call('SREM', index, ARGV[2])
redis.call('SADD', index, ARGV[3])
cover(index, ms)
return v
