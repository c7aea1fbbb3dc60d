-- KEYS: session. ARGV: member, ns.
-- The value while the session is filed in its subject's index (the caller checks the
-- deadlines and decodes it); nil if there is none or it was taken by remove_subject; a
-- value that isn't a session is returned as it is, for the caller to report.
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return false end
if t ~= 'string' then return -1 end
local v = redis.call('GET', KEYS[1])
local s = session(v)
if not s then return v end
local index = sets(ARGV[2], s.subject)
if not is(index, 'zset') then return -1 end
if not redis.call('ZSCORE', index, ARGV[1]) then return false end
return v
