-- Book a callback for a lead that is not in flight (an agent or the API books it): the lead leaves whatever queue
-- or park it was in (or enters the hopper) and waits in the callbacks queue until `at`, owned by `owner` if given.
-- A lead in flight is refused: its holder books the callback when it completes the attempt.
--
-- KEYS[1] callbacks ZSET
-- KEYS[2] recycle ZSET
-- KEYS[3] new ZSET
-- KEYS[4] parked ZSET
--
-- ARGV[1] lead hash key prefix
-- ARGV[2] lead id
-- ARGV[3] callback time (epoch ms)
-- ARGV[4] owner agent id ('' none)
-- ARGV[5] lead data (JSON) with the callback recorded
--
-- Returns 1 when booked, 0 when the lead is in flight.

local id = ARGV[2]
local leadKey = ARGV[1] .. id
local state = redis.call('HGET', leadKey, 'state')
if state == 'inflight' then return 0 end
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
-- A final lead (tombstone) booked again is dialable again: drop its expiry.
redis.call('PERSIST', leadKey)
redis.call('HSET', leadKey, 'kind', 'callback', 'order', ARGV[3], 'cbat', ARGV[3], 'owner', ARGV[4],
  'data', ARGV[5], 'state', 'queued')
redis.call('HSETNX', leadKey, 'takes', 0)
redis.call('HSETNX', leadKey, 'lost', 0)
redis.call('HDEL', leadKey, 'parkedUntil', 'parkReason')
redis.call('ZADD', KEYS[1], ARGV[3], id)
return 1
