-- Shared by every script. Times and versions are 20-digit decimal strings (any u64
-- fits); times are compared in two 10-digit halves, which Lua's doubles hold exactly.
-- Sorted-set scores are times capped at 2^53 seconds (see `score`).

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

-- Revocations and watermarks stay in Redis this long past their deadline by the writer's
-- clock (5 minutes), so a reader whose clock runs behind the writer's by up to that much
-- still finds the ones it judges live by its own `now`. Sessions get no margin: a writer
-- ahead ends them early, never late.
local KEPT_MS = 300000

-- PX for a revocation or a watermark at `key` kept until `t`: `ttl` with the margin
-- above, and never less than the key has left. A writer whose clock runs ahead computes
-- a shorter lifetime for the same deadline, and must not cut short the one an earlier
-- writer gave the entry: readers behind that earlier writer rely on it.
local function kept_ttl(key, t, now)
  local ms = tonumber(ttl(t, now)) + KEPT_MS
  local left = redis.call('PTTL', key)
  if left > ms then ms = left end
  return string.format('%d', ms)
end

-- The highest sorted-set score: times at or after 2^53 seconds all score this.
local CAP = '9007199254740992'

-- A time as a sorted-set score: exact below 2^53 (= 900719 * 10^10 + 9254740992),
-- capped there.
local function score(t)
  local hi, lo = tonumber(string.sub(t, 1, 10)), tonumber(string.sub(t, 11, 20))
  if hi > 900719 or (hi == 900719 and lo >= 9254740992) then
    return CAP
  end
  return string.format('%d', hi * 1e10 + lo)
end

-- The largest u64: 20 digits beyond it are no time or version the crate writes.
local U64_MAX = '18446744073709551615'

-- The 20 digits at byte `at` of `v`, or nil (also when they exceed a u64, which the
-- crate's decoder refuses too: a script must not go on with a value every read calls
-- corrupt).
local function digits_at(v, at)
  local t = string.sub(v, at, at + 19)
  if #t == 20 and not string.find(t, '%D') and not before(U64_MAX, t) then return t end
  return nil
end

-- s2:<created>:<last_seen>:<idle>:<absolute>:<version>:<subject>:<data>, or nil if `v`
-- is not one. Byte offsets (1-based): created 4, last_seen 25, idle 46, absolute 67,
-- version 88, subject 109-172, data from 174.
local function session(v)
  if string.sub(v, 1, 3) ~= 's2:' or string.sub(v, 24, 24) ~= ':'
    or string.sub(v, 45, 45) ~= ':' or string.sub(v, 66, 66) ~= ':'
    or string.sub(v, 87, 87) ~= ':' or string.sub(v, 108, 108) ~= ':'
    or string.sub(v, 173, 173) ~= ':' then
    return nil
  end
  local s = {
    created = digits_at(v, 4),
    last_seen = digits_at(v, 25),
    idle = digits_at(v, 46),
    absolute = digits_at(v, 67),
    version = digits_at(v, 88),
    subject = string.sub(v, 109, 172),
  }
  if not (s.created and s.last_seen and s.idle and s.absolute and s.version)
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

-- A set of the subject lives at least as long as the session just written.
local function cover(set, ms)
  if redis.call('PTTL', set) < tonumber(ms) then
    redis.call('PEXPIRE', set, ms)
  end
end

-- The index (members scored by expiry) and the creation-order set of a subject, under
-- the session namespace `ns`.
local function sets(ns, subject)
  return ns .. 'subject:' .. subject, ns .. 'age:' .. subject
end

-- Whether `s`, filed under `member`, is a live session at `now`: before its deadlines
-- and filed in its subject's current index (remove_subject detaches the index at once,
-- so a session it took is not live even before its key is deleted).
local function live(s, index, member, now)
  return before(now, s.expires) and redis.call('ZSCORE', index, member) ~= false
end

