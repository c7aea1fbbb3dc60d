-- KEYS: revocation. ARGV: until, now. 1 stored, -1 corrupt.
if not is(KEYS[1], 'string') then return -1 end
local upto = ARGV[1]
local v = redis.call('GET', KEYS[1])
if v then
  local stored = string.sub(v, 1, 3) == 'r1:' and #v == 23 and digits_at(v, 4)
  if not stored then return -1 end
  upto = later(stored, upto)
end
redis.call('SET', KEYS[1], 'r1:' .. upto, 'PX', kept_ttl(KEYS[1], upto, ARGV[2]))
return 1
