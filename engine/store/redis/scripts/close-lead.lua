-- Close a lead that is not in flight (an agent's disposition says never again: refused, do-not-call, done): it leaves
-- every queue and park and stays as a tombstone for a while, so a late refill from the lead source cannot bring it
-- back. A lead in flight is refused: its call is still up.
--
-- KEYS[1] callbacks ZSET
-- KEYS[2] recycle ZSET
-- KEYS[3] new ZSET
-- KEYS[4] parked ZSET
--
-- ARGV[1] lead hash key prefix
-- ARGV[2] lead id
-- ARGV[3] lead data (JSON) with its final status
-- ARGV[4] tombstone lifetime (ms)
--
-- Returns 1 when closed, 0 when the lead is in flight.

local id = ARGV[2]
local leadKey = ARGV[1] .. id
if redis.call('HGET', leadKey, 'state') == 'inflight' then return 0 end
for i = 1, 4 do redis.call('ZREM', KEYS[i], id) end
redis.call('HSET', leadKey, 'data', ARGV[3], 'state', 'done')
redis.call('HDEL', leadKey, 'parkedUntil', 'parkReason', 'cbat', 'owner')
redis.call('PEXPIRE', leadKey, ARGV[4])
return 1
