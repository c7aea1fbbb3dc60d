-- KEYS: index. ARGV: now (a score), ns, page size, last member of the previous page and
-- its score ('' for the first page).
-- {last member, last score, member, value, member, value, ...} for up to a page of the
-- sessions the index holds as live at `now`, in index order (by expiry, then member),
-- after the previous page; the last member is '' when no page follows; -1 if the index
-- is not a sorted set.
if not is(KEYS[1], 'zset') then return -1 end
local start
if ARGV[4] == '' then
  -- Dead entries score lowest: the live ones start after them.
  start = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])
else
  local rank = redis.call('ZRANK', KEYS[1], ARGV[4])
  if rank then
    start = rank + 1
  else
    -- The previous page's last session ended meanwhile: go on after its score.
    start = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[5])
  end
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
