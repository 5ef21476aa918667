-- Reserve one ready agent for a call, chosen by strategy (see includes/choose-agent.lua), atomically: two engines
-- asking at once get different agents. The reservation expires at now + timeout (expire-reservations.lua then
-- pauses the agent with reason no-answer).
--
-- KEYS[1] ready:idle ZSET   agent -> ready since
-- KEYS[2] ready:calls ZSET  agent -> calls
-- KEYS[3] ready:talk ZSET   agent -> talk ms
-- KEYS[4] reservations ZSET agent -> reservation expiry
--
-- ARGV[1] agent hash key prefix
-- ARGV[2] now (epoch ms)
-- ARGV[3] reservation timeout (ms)
-- ARGV[4] call id
-- ARGV[5] strategy: longest-idle | fewest-calls | least-talk-time
-- ARGV[6] required skills: 'name:worstTier,name:' ('' none; an empty tier accepts any)
-- ARGV[7] owner agent id ('' none)
-- ARGV[8] "1" when only the owner may take the call
--
-- Returns { agentId, version } or nil when no agent fits.
--@include "includes/choose-agent.lua"
--@include "includes/reserve-ready-agent.lua"

local prefix, now, timeout = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local id = chooseAgent(prefix, KEYS[1], KEYS[2], KEYS[3], ARGV[5], skillNeeds(ARGV[6]), ARGV[7], ARGV[8] == '1')
if not id then return nil end
local version = reserveReadyAgent(prefix, id, now, timeout, ARGV[4], KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return { id, version }
