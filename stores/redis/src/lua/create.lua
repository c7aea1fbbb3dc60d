-- KEYS: session, subject index. ARGV: value, expires, now, member, session key prefix.
-- 1 created, 2 conflict, -1 corrupt.
if not is(KEYS[2], 'set') then return -1 end
local ms = ttl(ARGV[2], ARGV[3])
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ms) then return 2 end
-- Forget members whose sessions Redis has expired.
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[5] .. m) == 0 then
    redis.call('SREM', KEYS[2], m)
  end
end
redis.call('SADD', KEYS[2], ARGV[4])
cover(KEYS[2], ms)
return 1
