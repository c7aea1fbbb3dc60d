-- KEYS: index. ARGV: now (a score), ns, page size, last member of the previous page and
-- its score as that page listed them ('' for the first page).
-- {last member, last score, member, value, member, value, ...} for up to a page of the
-- sessions the index holds as live at `now`, in index order (by expiry, then member),
-- after the previous page; the last member is '' when no page follows; -1 if the index
-- is not a sorted set.
if not is(KEYS[1], 'zset') then return -1 end

-- Whether member `a` sorts at or before `b` among members of one score: byte order, as
-- the index orders them (Lua's own `<=` follows the server's locale).
local function at_or_before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end

local start
if ARGV[4] == '' then
  -- Dead entries score lowest: the live ones start after them.
  start = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])
else
  -- The place the previous page ended, by the score and member it listed last, not by
  -- where that member is now: a touch or an update since then may have moved it later
  -- (a score only grows), and resuming after its new place would skip every session
  -- in between. Among the entries of that score (ranks lo to hi - 1, by member), start
  -- at the first whose member sorts after the last one listed.
  local lo = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[5])
  local hi = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[5])
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local m = redis.call('ZRANGE', KEYS[1], mid, mid)[1]
    if at_or_before(m, ARGV[4]) then lo = mid + 1 else hi = mid end
  end
  start = lo
end
-- One entry more than a page, to know whether another page follows.
local size = tonumber(ARGV[3])
local page = redis.call('ZRANGE', KEYS[1], start, start + size, 'WITHSCORES')
local more = #page > 2 * size
local out = {'', ''}
for i = 1, math.min(#page, 2 * size), 2 do
  local m = page[i]
  local key = ARGV[2] .. 'session:' .. m
  if redis.call('TYPE', key).ok == 'string' then
    out[#out + 1] = m
    out[#out + 1] = redis.call('GET', key)
  end
  out[1], out[2] = m, page[i + 1]
end
if not more then
  -- The index has nothing after this page: this script listed the rest.
  out[1], out[2] = '', ''
end
return out
