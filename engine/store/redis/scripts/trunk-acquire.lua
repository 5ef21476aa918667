-- Take one channel of a carrier trunk and one calls-per-second token in one step, so engine instances sharing the
-- trunk never exceed its contract together. A channel is a lease per call (score = expiry), so the channels of an
-- engine that died come back when their leases run out; the CPS limit is a token bucket refilled continuously.
--
-- KEYS[1] channels ZSET call id -> lease expiry (ms)
-- KEYS[2] cps bucket HASH tokens, at (ms)
--
-- ARGV[1] now (ms, the caller's clock)
-- ARGV[2] call id
-- ARGV[3] max channels (0 = no cap)
-- ARGV[4] max calls per second (0 = no cap)
-- ARGV[5] channel lease (ms)
--
-- Returns {1, channels in use} when granted, {0, 'channels', in use} or {0, 'cps', ms until a token} when refused.
local now = tonumber(ARGV[1])
local maxChannels = tonumber(ARGV[3])
local maxCps = tonumber(ARGV[4])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  -- a renewal: the call keeps its channel and spends no CPS token
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) * 2)
  return {1, redis.call('ZCARD', KEYS[1])}
end
local inUse = redis.call('ZCARD', KEYS[1])
if maxChannels > 0 and inUse >= maxChannels then
  return {0, 'channels', inUse}
end

if maxCps > 0 then
  local state = redis.call('HMGET', KEYS[2], 'tokens', 'at')
  local tokens = tonumber(state[1]) or maxCps
  local at = tonumber(state[2]) or now
  if now > at then
    tokens = math.min(maxCps, tokens + (now - at) * maxCps / 1000)
    at = now
  end
  if tokens < 1 then
    return {0, 'cps', math.ceil((1 - tokens) * 1000 / maxCps)}
  end
  -- floats do not survive the Lua -> Redis reply conversion, but HSET stores their string form exactly enough
  redis.call('HSET', KEYS[2], 'tokens', tostring(tokens - 1), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[2], 60000)
end

redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) * 2)
return {1, inUse + 1}
