-- Take up to `count` leads from a campaign's hopper for dialing, atomically across engine instances.
-- First it brings back leads whose lease expired (their engine died) and leads whose screening park ended, then
-- takes in order: due callbacks, due recycled leads, new leads. Each taken lead is marked in flight with a lease
-- (expiry in the inflight set) and a fresh token that release/park/complete/renew must present.
-- An owned callback, inside its grace after the booked time, is taken only when the owner is listed as able to
-- take it (when a list is given) and is returned with route "owner": the engine must route it to that agent.
--
-- KEYS[1] callbacks ZSET  lead id -> callback time
-- KEYS[2] recycle ZSET    lead id -> retry time
-- KEYS[3] new ZSET        lead id -> order
-- KEYS[4] parked ZSET     lead id -> park end
-- KEYS[5] inflight ZSET   lead id -> lease expiry
--
-- ARGV[1] now (epoch ms, from the caller's clock)
-- ARGV[2] lease (ms)
-- ARGV[3] instance id, the token prefix
-- ARGV[4] lead hash key prefix (same hash tag as KEYS)
-- ARGV[5] owner grace (ms)
-- ARGV[6] count
-- ARGV[7] max leases reclaimed and parks ended per call
-- ARGV[8] "1" when ARGV[9..] list the agents able to take an owned callback now, "0" for no filter
-- ARGV[9..] agent ids
--
-- Returns { reclaimed, parksEnded, n, then n times: id, kind, data, token, leaseUntil, route, agent, until, lost }
--@include "includes/requeue-lead.lua"

local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local instance = ARGV[3]
local prefix = ARGV[4]
local grace = tonumber(ARGV[5])
local count = tonumber(ARGV[6])
local maintenance = tonumber(ARGV[7])
local filtered = ARGV[8] == '1'
local able = {}
for i = 9, #ARGV do able[ARGV[i]] = true end

local reclaimed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, maintenance)) do
  redis.call('ZREM', KEYS[5], id)
  local leadKey = prefix .. id
  redis.call('HINCRBY', leadKey, 'lost', 1)
  requeueLead(leadKey, id, KEYS[1], KEYS[2], KEYS[3])
  reclaimed = reclaimed + 1
end

local parksEnded = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, maintenance)) do
  redis.call('ZREM', KEYS[4], id)
  requeueLead(prefix .. id, id, KEYS[1], KEYS[2], KEYS[3])
  parksEnded = parksEnded + 1
end

local out = {}
local taken = 0

local function take(id, queue, route, agent, untilAt)
  local leadKey = prefix .. id
  redis.call('ZREM', queue, id)
  local n = redis.call('HINCRBY', leadKey, 'takes', 1)
  local token = instance .. ':' .. n
  local leaseUntil = now + lease
  redis.call('ZADD', KEYS[5], leaseUntil, id)
  redis.call('HSET', leadKey, 'state', 'inflight', 'token', token, 'leaseUntil', leaseUntil)
  local kind, data, lost = unpack(redis.call('HMGET', leadKey, 'kind', 'data', 'lost'))
  out[#out + 1] = id
  out[#out + 1] = kind
  out[#out + 1] = data
  out[#out + 1] = token
  out[#out + 1] = string.format('%d', leaseUntil)
  out[#out + 1] = route
  out[#out + 1] = agent
  out[#out + 1] = string.format('%d', untilAt)
  out[#out + 1] = lost or '0'
  taken = taken + 1
end

-- Callbacks: skipped ones (owner not able yet) stay queued, so scan a window beyond `count`.
if taken < count then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, count + maintenance)
  for _, id in ipairs(due) do
    if taken >= count then break end
    local owner, cbat = unpack(redis.call('HMGET', prefix .. id, 'owner', 'cbat'))
    if owner and owner ~= '' then
      local ownedUntil = (tonumber(cbat) or 0) + grace
      if now < ownedUntil then
        if (not filtered) or able[owner] then take(id, KEYS[1], 'owner', owner, ownedUntil) end
      else
        take(id, KEYS[1], 'prefer', owner, 0)
      end
    else
      take(id, KEYS[1], 'any', '', 0)
    end
  end
end

local function takeFrom(ids, queue)
  for _, id in ipairs(ids) do
    local owner = redis.call('HGET', prefix .. id, 'owner')
    if owner and owner ~= '' then take(id, queue, 'prefer', owner, 0) else take(id, queue, 'any', '', 0) end
  end
end

if taken < count then
  takeFrom(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, count - taken), KEYS[2])
end
if taken < count then
  takeFrom(redis.call('ZRANGE', KEYS[3], 0, count - taken - 1), KEYS[3])
end

local result = { reclaimed, parksEnded, taken }
for _, v in ipairs(out) do result[#result + 1] = v end
return result
