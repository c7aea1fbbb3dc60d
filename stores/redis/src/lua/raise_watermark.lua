-- KEYS: watermark. ARGV: cutoff, expires, now. 1 stored, -1 corrupt.
if not is(KEYS[1], 'string') then return -1 end
local cutoff, expires = ARGV[1], ARGV[2]
local v = redis.call('GET', KEYS[1])
if v then
  local c, e = digits_at(v, 4), digits_at(v, 25)
  if string.sub(v, 1, 3) ~= 'w1:' or #v ~= 44 or string.sub(v, 24, 24) ~= ':'
    or not (c and e) then
    return -1
  end
  -- Merge with the stored watermark while it is live: both times only ever rise.
  if before(ARGV[3], e) then
    cutoff, expires = later(c, cutoff), later(e, expires)
  end
end
-- Nothing live to raise: a stored watermark that has ended by this clock stays as it is
-- for a reader whose clock is behind.
if not before(ARGV[3], expires) then return 1 end
redis.call('SET', KEYS[1], 'w1:' .. cutoff .. ':' .. expires, 'PX', kept_ttl(KEYS[1], expires, ARGV[3]))
return 1
