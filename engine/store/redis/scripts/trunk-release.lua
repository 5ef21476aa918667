-- Give back a trunk channel when its call ends (failed or ended). Releasing twice is harmless.
--
-- KEYS[1] channels ZSET call id -> lease expiry (ms)
--
-- ARGV[1] call id
--
-- Returns 1 when the call held a channel, 0 otherwise.
return redis.call('ZREM', KEYS[1], ARGV[1])
