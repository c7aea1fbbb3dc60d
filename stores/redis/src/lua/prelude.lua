-- Shared by every script. Times are 20-digit decimal strings (any u64 fits); they are
-- compared in two 10-digit halves, which Lua's doubles hold exactly.

local function before(a, b)
  local ah, bh = tonumber(string.sub(a, 1, 10)), tonumber(string.sub(b, 1, 10))
  if ah ~= bh then return ah < bh end
  return tonumber(string.sub(a, 11, 20)) < tonumber(string.sub(b, 11, 20))
end

local function later(a, b)
  if before(a, b) then return b end
  return a
end

local function earlier(a, b)
  if before(a, b) then return a end
  return b
end

-- Milliseconds from `now` until `t`, for PX: at least 1, at most 10^15 (over 30 000 years).
local function ttl(t, now)
  local secs = (tonumber(string.sub(t, 1, 10)) - tonumber(string.sub(now, 1, 10))) * 1e10
    + (tonumber(string.sub(t, 11, 20)) - tonumber(string.sub(now, 11, 20)))
  local ms = secs * 1000
  if ms < 1 then ms = 1 elseif ms > 1e15 then ms = 1e15 end
  return string.format('%d', ms)
end

-- The 20-digit time at byte `at` of `v`, or nil.
local function time_at(v, at)
  local t = string.sub(v, at, at + 19)
  if #t == 20 and not string.find(t, '%D') then return t end
  return nil
end

-- s1:<created>:<last_seen>:<idle>:<absolute>:<subject>:<data>, or nil if `v` is not one.
local function session(v)
  if string.sub(v, 1, 3) ~= 's1:' or string.sub(v, 24, 24) ~= ':'
    or string.sub(v, 45, 45) ~= ':' or string.sub(v, 66, 66) ~= ':'
    or string.sub(v, 87, 87) ~= ':' or string.sub(v, 152, 152) ~= ':' then
    return nil
  end
  local s = {
    last_seen = time_at(v, 25),
    idle = time_at(v, 46),
    absolute = time_at(v, 67),
    subject = string.sub(v, 88, 151),
  }
  if not (time_at(v, 4) and s.last_seen and s.idle and s.absolute)
    or string.find(s.subject, '[^0-9a-f]') then
    return nil
  end
  s.expires = earlier(s.idle, s.absolute)
  return s
end

-- Whether `key` is absent or holds the Redis type `kind`. Scripts check every key they
-- will write before the first write, so a foreign value can't stop them halfway.
local function is(key, kind)
  local t = redis.call('TYPE', key).ok
  return t == 'none' or t == kind
end

-- The subject index lives at least as long as the session just written.
local function cover(index, ms)
  if redis.call('PTTL', index) < tonumber(ms) then
    redis.call('PEXPIRE', index, ms)
  end
end

