-- Pick a ready agent for a call, as engine/acd/routing.ts chooseAgent does: the owner if ready; else (unless
-- owner-only) among agents with the skills, best tier, then the strategy's measure, then longest idle, then id.
-- The ready sets are scored by each measure, so the scan stops as soon as no later agent can win.
-- `needs` lists the skills the call needs as { name, worst tier accepted } (a call queue's required skills; one
-- skill at math.huge for an inbound menu's queue); an agent's tier for the call is its worst over them.

-- Needs as reserve-agent.lua gets them: 'sales:2,service:' (the tier after the last colon, empty for any; skill
-- names may hold colons but never commas).
local function skillNeeds(spec)
  local needs = {}
  for part in string.gmatch(spec, '[^,]+') do
    local name, maxTier = string.match(part, '^(.*):(%d*)$')
    needs[#needs + 1] = { name, tonumber(maxTier) or math.huge }
  end
  return needs
end

local function tierFor(prefix, id, needs)
  local worst = 0
  for _, need in ipairs(needs) do
    local tier = tonumber(redis.call('HGET', prefix .. id, 'skill:' .. need[1]))
    if not tier or tier > need[2] then return nil end
    if tier > worst then worst = tier end
  end
  return worst
end

local function chooseAgent(prefix, readyIdle, readyCalls, readyTalk, strategy, needs, owner, ownerOnly)
  if owner ~= '' and redis.call('ZSCORE', readyIdle, owner) then return owner end
  if ownerOnly then return nil end
  local set = readyIdle
  if strategy == 'fewest-calls' then set = readyCalls
  elseif strategy == 'least-talk-time' then set = readyTalk
  elseif strategy ~= 'longest-idle' then error('unknown routing strategy ' .. tostring(strategy)) end
  local bestTierPossible = 0
  if #needs > 0 then bestTierPossible = 1 end
  local best, bestTier, bestMeasure, bestIdle = nil, 0, 0, 0
  local members = redis.call('ZRANGE', set, 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    local id, m = members[i], tonumber(members[i + 1])
    if best and bestTier == bestTierPossible and m > bestMeasure then break end
    local tier = tierFor(prefix, id, needs)
    if tier then
      local idle = m
      if set ~= readyIdle then idle = tonumber(redis.call('ZSCORE', readyIdle, id)) end
      local better = (not best) or tier < bestTier or (tier == bestTier and (m < bestMeasure or (m == bestMeasure and
        (idle < bestIdle or (idle == bestIdle and id < best)))))
      if better then best, bestTier, bestMeasure, bestIdle = id, tier, m, idle end
    end
  end
  return best
end
