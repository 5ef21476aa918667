-- Pop the best waiting call across queues: the lowest score among the queues' heads (ties to the queue listed
-- first). Exactly one engine gets each call.
--
-- KEYS[1...] queue ZSETs
--
-- ARGV[1] call hash key prefix
--
-- Returns the call (JSON), or nil when every queue is empty.

local bestKey, bestId, bestScore = nil, nil, nil
for _, key in ipairs(KEYS) do
  local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if head[1] and (not bestScore or tonumber(head[2]) < bestScore) then
    bestKey, bestId, bestScore = key, head[1], tonumber(head[2])
  end
end
if not bestKey then return nil end
redis.call('ZREM', bestKey, bestId)
local callKey = ARGV[1] .. bestId
local call = redis.call('HGET', callKey, 'call')
redis.call('DEL', callKey)
return call
