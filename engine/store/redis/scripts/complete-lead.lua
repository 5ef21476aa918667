-- Finish a taken lead after its attempt: file it as a recycled lead due at `at`, as a callback booked at `at`
-- (optionally owned by an agent), or as final (kept as a tombstone for a while so a late refill from the lead
-- source cannot bring it back).
--
-- KEYS[1] callbacks ZSET
-- KEYS[2] recycle ZSET
-- KEYS[3] inflight ZSET
--
-- ARGV[1] lead id
-- ARGV[2] token from take-lead
-- ARGV[3] lead hash key prefix
-- ARGV[4] decision: retry | callback | final
-- ARGV[5] at (epoch ms; retry or callback time)
-- ARGV[6] owner agent id for a callback ('' for none)
-- ARGV[7] lead data (JSON) as it stands after the attempt
-- ARGV[8] tombstone lifetime (ms) for final leads
--
-- Returns 1, or 0 when the token no longer holds the lead.
--@include "includes/check-token.lua"

local id, token, decision = ARGV[1], ARGV[2], ARGV[4]
local leadKey = ARGV[3] .. id
if not holdsLead(leadKey, token, 'inflight') then return 0 end
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', leadKey, 'token', 'leaseUntil')
redis.call('HSET', leadKey, 'data', ARGV[7])
if decision == 'retry' then
  redis.call('HSET', leadKey, 'kind', 'recycle', 'order', ARGV[5], 'state', 'queued')
  redis.call('ZADD', KEYS[2], ARGV[5], id)
elseif decision == 'callback' then
  redis.call('HSET', leadKey, 'kind', 'callback', 'order', ARGV[5], 'cbat', ARGV[5], 'owner', ARGV[6],
    'state', 'queued')
  redis.call('ZADD', KEYS[1], ARGV[5], id)
elseif decision == 'final' then
  redis.call('HSET', leadKey, 'state', 'done')
  redis.call('PEXPIRE', leadKey, ARGV[8])
else
  return redis.error_reply('complete-lead: unknown decision ' .. tostring(decision))
end
return 1
