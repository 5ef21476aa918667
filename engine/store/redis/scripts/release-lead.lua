-- Give a taken lead back untouched (no attempt was made, e.g. no channel was free): it returns to its queue at
-- its old place and its lease ends.
--
-- KEYS[1] callbacks ZSET
-- KEYS[2] recycle ZSET
-- KEYS[3] new ZSET
-- KEYS[4] inflight ZSET
--
-- ARGV[1] lead id
-- ARGV[2] token from take-lead
-- ARGV[3] lead hash key prefix
--
-- Returns 1, or 0 when the token no longer holds the lead (lease expired and taken again).
--@include "includes/check-token.lua"
--@include "includes/requeue-lead.lua"

local id, token = ARGV[1], ARGV[2]
local leadKey = ARGV[3] .. id
if not holdsLead(leadKey, token, 'inflight') then return 0 end
redis.call('ZREM', KEYS[4], id)
requeueLead(leadKey, id, KEYS[1], KEYS[2], KEYS[3])
return 1
