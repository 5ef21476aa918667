-- The live bindings of one agent, dropping those that expired (the keys themselves only expire with the last one).
--
-- KEYS[1] contacts ZSET contact URI -> expiry (ms)
-- KEYS[2] details HASH contact URI -> JSON
--
-- ARGV[1] now (ms, the caller's clock)
--
-- Returns {uri1, expiry1, details1, uri2, ...}, soonest expiry first.
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, uri in ipairs(expired) do
  redis.call('HDEL', KEYS[2], uri)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #live, 2 do
  out[#out + 1] = live[i]
  out[#out + 1] = live[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], live[i]) or '{}'
end
return out
