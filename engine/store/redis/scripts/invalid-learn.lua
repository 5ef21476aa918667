-- Remember a number learned invalid (SIP cause, SIT tone, announcement), keeping whichever entry blocks longer:
-- a 1-day "unreachable" must not shorten a 90-day "unallocated" learned before it.
--
-- KEYS[1] HASH of the number's entry
-- KEYS[2] ZSET number hash -> expiresAt (only entries that expire)
--
-- ARGV[1] the number's keyed hash (never the number itself)
-- ARGV[2] reason
-- ARGV[3] source
-- ARGV[4] learnedAt (epoch ms)
-- ARGV[5] expiresAt (epoch ms), or '' for never
-- ARGV[6] detail
--
-- Returns 1 when stored, 0 when the existing entry blocks at least as long and was kept.

local existing = redis.call('HGET', KEYS[1], 'expiresAt')
if existing then
  if existing == '' then return 0 end
  if ARGV[5] ~= '' and tonumber(existing) >= tonumber(ARGV[5]) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'reason', ARGV[2], 'source', ARGV[3], 'learnedAt', ARGV[4], 'expiresAt', ARGV[5], 'detail', ARGV[6])
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
end
return 1
