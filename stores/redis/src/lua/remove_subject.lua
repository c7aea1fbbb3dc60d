-- KEYS: subject index. ARGV: session key prefix, subject hex.
-- How many sessions were deleted, or -1 corrupt.
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return 0 end
if t ~= 'set' then return -1 end
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. m
  if redis.call('TYPE', key).ok == 'string' then
    local s = session(redis.call('GET', key))
    if s and s.subject == ARGV[2] then
      redis.call('DEL', key)
      n = n + 1
    end
  end
end
redis.call('DEL', KEYS[1])
return n
