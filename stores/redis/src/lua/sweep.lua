-- remove_subject, the cleanup after detach.lua. KEYS: detached index, detached age,
-- current index. ARGV: ns, chunk size, subject hex.
-- Deletes up to a chunk of the detached sessions' keys; returns how many are left, or
-- -1 if the current index is not a sorted set.
if not is(KEYS[3], 'zset') then return -1 end
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then
  redis.call('DEL', KEYS[2])
  return 0
end
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do
  -- A key filed again since (a new session that happens to reuse it) stays.
  local key = ARGV[1] .. 'session:' .. m
  if not redis.call('ZSCORE', KEYS[3], m) and redis.call('TYPE', key).ok == 'string' then
    local s = session(redis.call('GET', key))
    if s and s.subject == ARGV[3] then redis.call('DEL', key) end
  end
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[2]) end
return left
