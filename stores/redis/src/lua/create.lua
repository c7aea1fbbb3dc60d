-- KEYS: session, index, age (of the new session's subject).
-- ARGV: value, expires, now, member, created, ns, max (0: no limit), when full
-- ('refuse' or 'oldest'), subject hex.
-- {1, ended} created; {2} conflict; {3} limit reached; {-1} corrupt.
local now, member, ns = ARGV[3], ARGV[4], ARGV[6]
if not (is(KEYS[1], 'string') and is(KEYS[2], 'zset') and is(KEYS[3], 'zset')) then
  return {-1}
end
local old = redis.call('GET', KEYS[1])
local old_index, old_age
if old then
  local o = session(old)
  if not o then return {-1} end
  old_index, old_age = sets(ns, o.subject)
  if not (is(old_index, 'zset') and is(old_age, 'zset')) then return {-1} end
  if live(o, old_index, member, now) then return {2} end
end
local nowscore = score(now)
local max = tonumber(ARGV[7])
local count = 0
if max > 0 then
  count = redis.call('ZCOUNT', KEYS[2], '(' .. nowscore, '+inf')
  if count >= max and ARGV[8] ~= 'oldest' then return {3} end
end
-- All checks passed: from here on nothing can fail.
if old_index then
  -- A dead session under this key: forget it.
  redis.call('ZREM', old_index, member)
  redis.call('ZREM', old_age, member)
end
-- Ends the subject's entry `m`: its key is deleted only if it still holds a session of
-- this subject (a key is never reused in practice, but never delete another's session).
local function forget(m)
  local key = ns .. 'session:' .. m
  if redis.call('TYPE', key).ok == 'string' then
    local s = session(redis.call('GET', key))
    if s and s.subject == ARGV[9] then redis.call('DEL', key) end
  end
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', KEYS[3], m)
end
-- Prune a bounded number of dead entries: each create removes up to 32, so the dead
-- never pile up faster than logins remove them, and no call does more than that. Not at
-- or past the score cap, where a live session's capped score is not above `now`'s.
if nowscore ~= CAP then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', nowscore, 'LIMIT', 0, 32)) do
    forget(m)
  end
end
local ended = 0
if max > 0 then
  if count >= max then
    local need = count - max + 1
    -- Walk the creation order from the oldest, dropping entries that are dead or no
    -- longer indexed, and ending live ones until there is room; at most 256 steps.
    local budget = 256
    while need > 0 and budget > 0 do
      local batch = redis.call('ZRANGE', KEYS[3], 0, 31)
      if #batch == 0 then break end
      for _, m in ipairs(batch) do
        if need == 0 or budget == 0 then break end
        budget = budget - 1
        local expires = redis.call('ZSCORE', KEYS[2], m)
        if expires and tonumber(expires) > tonumber(nowscore) then
          need = need - 1
          ended = ended + 1
        end
        forget(m)
      end
    end
    if need > 0 then
      -- Many dead entries ahead of the live ones: order the live ones instead (their
      -- number is what the limit bounds).
      local order = {}
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. nowscore, '+inf')) do
        order[#order + 1] = {tonumber(redis.call('ZSCORE', KEYS[3], m)) or 0, m}
      end
      table.sort(order, function(a, b)
        if a[1] ~= b[1] then return a[1] < b[1] end
        return a[2] < b[2]
      end)
      for i = 1, need do
        if order[i] then
          forget(order[i][2])
          ended = ended + 1
        end
      end
    end
  end
end
local ms = ttl(ARGV[2], now)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ms)
redis.call('ZADD', KEYS[2], score(ARGV[2]), member)
redis.call('ZADD', KEYS[3], score(ARGV[5]), member)
cover(KEYS[2], ms)
cover(KEYS[3], ms)
return {1, ended}
