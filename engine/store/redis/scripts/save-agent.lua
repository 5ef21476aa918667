-- Write an agent after a transition computed by the pure state machine (engine/acd/agent-machine.ts), if nobody
-- changed it since it was read (optimistic: version check). Keeps the ready sets and the reservation set in step
-- with the new state. Skills (skill:* fields) are left as they are.
--
-- KEYS[1] agent HASH
-- KEYS[2] agents SET
-- KEYS[3] ready:idle ZSET
-- KEYS[4] ready:calls ZSET
-- KEYS[5] ready:talk ZSET
-- KEYS[6] reservations ZSET
--
-- ARGV[1] agent id
-- ARGV[2] version read ('0' when the agent did not exist)
-- ARGV[3] reservation expiry (used when the new state is reserved)
-- ARGV[4..] field, value pairs (state, since, calls, talkMs, ... ; optional fields absent are deleted)
--
-- Returns the new version, or -1 when the agent changed meanwhile.

local id = ARGV[1]
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if current ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[1], 'callId', 'pauseReason', 'lastCallEndedAt')
local fields = {}
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  fields[ARGV[i]] = ARGV[i + 1]
end
redis.call('SADD', KEYS[2], id)
if fields.state == 'ready' then
  redis.call('ZADD', KEYS[3], fields.since, id)
  redis.call('ZADD', KEYS[4], fields.calls, id)
  redis.call('ZADD', KEYS[5], fields.talkMs, id)
else
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
if fields.state == 'reserved' then
  redis.call('ZADD', KEYS[6], ARGV[3], id)
else
  redis.call('ZREM', KEYS[6], id)
end
return redis.call('HINCRBY', KEYS[1], 'version', 1)
