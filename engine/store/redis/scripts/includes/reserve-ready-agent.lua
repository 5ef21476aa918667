-- Move a ready agent to reserved for a call, as engine/acd/agent-machine.ts does for a 'reserve' event: the time
-- since it became ready is added to its ready total, it leaves the ready sets, and its reservation expiry is set.
-- Returns the agent's new version.
local function reserveReadyAgent(prefix, id, now, timeout, callId, readyIdle, readyCalls, readyTalk, reservations)
  local agentKey = prefix .. id
  local state, since = unpack(redis.call('HMGET', agentKey, 'state', 'since'))
  if state ~= 'ready' then error('agent ' .. id .. ' is in a ready set but ' .. tostring(state)) end
  -- Engines' clocks differ slightly: never let an agent's state start before its previous one did.
  now = math.max(now, tonumber(since))
  redis.call('HINCRBY', agentKey, 't:ready', now - tonumber(since))
  redis.call('HSET', agentKey, 'state', 'reserved', 'since', string.format('%d', now), 'callId', callId)
  redis.call('HDEL', agentKey, 'pauseReason')
  redis.call('ZREM', readyIdle, id)
  redis.call('ZREM', readyCalls, id)
  redis.call('ZREM', readyTalk, id)
  redis.call('ZADD', reservations, string.format('%d', now + timeout), id)
  return redis.call('HINCRBY', agentKey, 'version', 1)
end
