-- Match a waiting call with a ready agent in one step: the queues' heads are tried best score first; the first
-- head for which an agent fits (its skill, its owner) is popped and the agent reserved for it. Calls whose needs
-- no ready agent meets stay queued, so one skill's backlog does not block another's.
--
-- KEYS[1] ready:idle ZSET
-- KEYS[2] ready:calls ZSET
-- KEYS[3] ready:talk ZSET
-- KEYS[4] reservations ZSET
-- KEYS[5...] queue ZSETs
--
-- ARGV[1] agent hash key prefix
-- ARGV[2] call hash key prefix
-- ARGV[3] now (epoch ms)
-- ARGV[4] reservation timeout (ms)
-- ARGV[5] strategy
--
-- Returns { call JSON, agentId, version } or nil.
--@include "includes/choose-agent.lua"
--@include "includes/reserve-ready-agent.lua"

local agentPrefix, callPrefix = ARGV[1], ARGV[2]
local now, timeout = tonumber(ARGV[3]), tonumber(ARGV[4])
local heads = {}
for i = 5, #KEYS do
  local head = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if head[1] then heads[#heads + 1] = { key = KEYS[i], id = head[1], score = tonumber(head[2]), pos = i } end
end
table.sort(heads, function(a, b) return a.score < b.score or (a.score == b.score and a.pos < b.pos) end)
for _, h in ipairs(heads) do
  local callKey = callPrefix .. h.id
  local json = redis.call('HGET', callKey, 'call')
  local call = cjson.decode(json)
  local skill, owner = call.skill or '', call.ownerAgentId or ''
  local needs = {}
  if skill ~= '' then needs[1] = { skill, math.huge } end
  local id = chooseAgent(agentPrefix, KEYS[1], KEYS[2], KEYS[3], ARGV[5], needs, owner, call.ownerOnly == true)
  if id then
    redis.call('ZREM', h.key, h.id)
    redis.call('DEL', callKey)
    local version = reserveReadyAgent(agentPrefix, id, now, timeout, h.id, KEYS[1], KEYS[2], KEYS[3], KEYS[4])
    return { json, id, version }
  end
end
return nil
