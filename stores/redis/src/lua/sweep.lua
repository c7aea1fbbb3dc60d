-- remove_subject, the cleanup after detach.lua. KEYS: detached index, detached age,
-- current index. ARGV: ns, chunk size.
-- Deletes up to a chunk of the detached sessions' keys; returns how many are left, or
-- -1 if the current index is not a sorted set.
if not is(KEYS[3], 'zset') then return -1 end
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then
  redis.call('DEL', KEYS[2])
  return 0
end
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do
  -- A key filed again since (a new session that happens to reuse it) stays.
  if not redis.call('ZSCORE', KEYS[3], m) then
    redis.call('DEL', ARGV[1] .. 'session:' .. m)
  end
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[2]) end
return left
