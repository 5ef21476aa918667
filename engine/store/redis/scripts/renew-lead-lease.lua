-- Extend the lease of a lead whose call is still going, so it is not handed to another engine mid-call.
--
-- KEYS[1] inflight ZSET
--
-- ARGV[1] lead id
-- ARGV[2] token from take-lead
-- ARGV[3] lead hash key prefix
-- ARGV[4] now (epoch ms)
-- ARGV[5] lease (ms)
--
-- Returns the new lease expiry, or 0 when the token no longer holds the lead or the lease has already run out
-- (another engine may have reclaimed it; the caller must treat the lead as lost).
--@include "includes/check-token.lua"

local id, token = ARGV[1], ARGV[2]
local leadKey = ARGV[3] .. id
if not holdsLead(leadKey, token, 'inflight') then return 0 end
local now = tonumber(ARGV[4])
local current = tonumber(redis.call('ZSCORE', KEYS[1], id))
if current == nil or current <= now then return 0 end
local untilAt = now + tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], untilAt, id)
redis.call('HSET', leadKey, 'leaseUntil', untilAt)
return string.format('%d', untilAt)
