-- Park a taken lead that failed just-in-time screening (outside calling hours, inside a re-call gap...) until
-- `until`: its lease ends and take-lead brings it back to its own queue once the park is over.
--
-- KEYS[1] parked ZSET
-- KEYS[2] inflight ZSET
--
-- ARGV[1] lead id
-- ARGV[2] token from take-lead
-- ARGV[3] lead hash key prefix
-- ARGV[4] park end (epoch ms)
-- ARGV[5] reason (for operators)
--
-- Returns 1, or 0 when the token no longer holds the lead.
--@include "includes/check-token.lua"

local id, token = ARGV[1], ARGV[2]
local leadKey = ARGV[3] .. id
if not holdsLead(leadKey, token, 'inflight') then return 0 end
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', KEYS[1], ARGV[4], id)
redis.call('HSET', leadKey, 'state', 'parked', 'parkedUntil', ARGV[4], 'parkReason', ARGV[5])
redis.call('HDEL', leadKey, 'token', 'leaseUntil')
return 1
