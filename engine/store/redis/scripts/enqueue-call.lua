-- Put a call in a queue to wait for an agent. Its routing needs and context are kept in a hash beside it.
--
-- KEYS[1] queue ZSET  call id -> score (priority, then time waiting; see engine/acd/call-queue.ts)
-- KEYS[2] call HASH
--
-- ARGV[1] call id
-- ARGV[2] score
-- ARGV[3] call (JSON)
--
-- Returns 1, or 0 when the call was already queued.

if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'call', ARGV[3], 'queue', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
