-- KEYS: session, subject index of the new record. ARGV: value, expires, now, member,
-- subject index prefix. 1 updated, 0 no live session, -1 corrupt.
if not is(KEYS[1], 'string') then return -1 end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s = session(v)
if not s then return -1 end
if not before(ARGV[3], s.expires) then return 0 end
local old_index = ARGV[5] .. s.subject
if not is(KEYS[2], 'set') or not is(old_index, 'set') then return -1 end
local ms = ttl(ARGV[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'XX', 'PX', ms)
if old_index ~= KEYS[2] then
  redis.call('SREM', old_index, ARGV[4])
end
redis.call('SADD', KEYS[2], ARGV[4])
cover(KEYS[2], ms)
return 1
