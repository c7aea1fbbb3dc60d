-- KEYS: index. ARGV: now (a score), ns.
-- Member, value, member, value, ... of the sessions the index holds as live at `now`;
-- -1 if the index is not a sorted set.
if not is(KEYS[1], 'zset') then return -1 end
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  local key = ARGV[2] .. 'session:' .. m
  if redis.call('TYPE', key).ok == 'string' then
    out[#out + 1] = m
    out[#out + 1] = redis.call('GET', key)
  end
end
return out
