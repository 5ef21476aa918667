-- Delete learned-invalid entries that expired at or before `now`. Expiry follows the engine's clock (virtual in the
-- simulator), not Redis TTLs, so it is swept by this script rather than left to Redis.
--
-- KEYS[1] ZSET number hash -> expiresAt
--
-- ARGV[1] now (epoch ms)
-- ARGV[2] entry hash key prefix (the number's keyed hash is appended; same hash tag as KEYS[1])
-- ARGV[3] at most this many entries per call
--
-- Returns the number of entries deleted.

local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, n in ipairs(due) do
  redis.call('DEL', ARGV[2] .. n)
  redis.call('ZREM', KEYS[1], n)
end
return #due
