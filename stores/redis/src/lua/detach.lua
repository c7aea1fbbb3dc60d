-- remove_subject, the atomic step. KEYS: index, age, detached index, detached age.
-- ARGV: member to keep ('' for none), ns.
-- How many sessions were taken (dead ones may be counted), -2 if the detached names are
-- in use (the caller picks others), -1 corrupt.
--
-- Renaming the index away ends every session in it at once: a session is live only
-- while filed in its subject's current index. The session keys are deleted afterwards,
-- in bounded chunks (sweep.lua), so this step costs the same for 10 sessions or 100 000.
for i = 1, 4 do
  if not is(KEYS[i], 'zset') then return -1 end
end
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then return -2 end
local keep, keep_expires, keep_created, keep_ms = ARGV[1], false, false, 0
if keep ~= '' then
  -- A kept session whose key has expired is dead: nothing to keep (its sets would get
  -- no TTL). Read before the first write.
  keep_ms = redis.call('PTTL', ARGV[2] .. 'session:' .. keep)
  if keep_ms > 0 then keep_expires = redis.call('ZSCORE', KEYS[1], keep) end
  if keep_expires then
    keep_created = redis.call('ZSCORE', KEYS[2], keep) or keep_expires
    redis.call('ZREM', KEYS[1], keep)
    redis.call('ZREM', KEYS[2], keep)
  end
end
local n = redis.call('ZCARD', KEYS[1])
if n > 0 then redis.call('RENAME', KEYS[1], KEYS[3]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
if keep_expires then
  redis.call('ZADD', KEYS[1], keep_expires, keep)
  redis.call('ZADD', KEYS[2], keep_created, keep)
  redis.call('PEXPIRE', KEYS[1], keep_ms)
  redis.call('PEXPIRE', KEYS[2], keep_ms)
end
return n
