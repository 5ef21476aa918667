-- Reservations nobody answered: each reserved agent whose reservation ran out is paused with reason no-answer
-- (as agent-machine.ts does on 'reserve-timeout'), never left reserved. Any engine may run this; the agents it
-- returns tell the engine which calls need another agent.
--
-- KEYS[1] reservations ZSET agent -> reservation expiry
--
-- ARGV[1] agent hash key prefix
-- ARGV[2] now (epoch ms)
-- ARGV[3] max agents handled per call
--
-- Returns { agentId, callId, ... }

local prefix, now = ARGV[1], tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', KEYS[1], id)
  local agentKey = prefix .. id
  local state, since, callId = unpack(redis.call('HMGET', agentKey, 'state', 'since', 'callId'))
  if state == 'reserved' then
    redis.call('HINCRBY', agentKey, 't:reserved', math.max(0, now - tonumber(since)))
    redis.call('HINCRBY', agentKey, 'noAnswers', 1)
    redis.call('HSET', agentKey, 'state', 'paused', 'pauseReason', 'no-answer', 'since', string.format('%d', now))
    redis.call('HDEL', agentKey, 'callId')
    redis.call('HINCRBY', agentKey, 'version', 1)
    out[#out + 1] = id
    out[#out + 1] = callId or ''
  end
end
return out
