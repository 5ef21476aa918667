-- Take one named lead for an agent's own call (click-to-dial), atomically across engine instances: the lead the
-- agent asked for, not the next in order. A queued or parked lead leaves its queue; a lead the hopper does not hold
-- yet is added as taken (the refill then finds it present and leaves it alone, so it is never dialed twice); a lead
-- in flight (another call has it) or done (a recent final tombstone) is refused. A taken lead is leased with a fresh
-- token exactly as take-lead.lua leases, so release/park/complete/renew work on it unchanged.
--
-- KEYS[1] callbacks ZSET
-- KEYS[2] recycle ZSET
-- KEYS[3] new ZSET
-- KEYS[4] parked ZSET
-- KEYS[5] inflight ZSET
--
-- ARGV[1] now (epoch ms)
-- ARGV[2] lease (ms)
-- ARGV[3] instance id, the token prefix
-- ARGV[4] lead hash key prefix
-- ARGV[5] lead id
-- ARGV[6] the lead as JSON, used only when the hopper does not hold it
--
-- Returns { 'taken', kind, data, token, leaseUntil, lost } or { 'in-flight' } or { 'done' }

local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local id = ARGV[5]
local leadKey = ARGV[4] .. id

if redis.call('EXISTS', leadKey) == 0 then
  redis.call('HSET', leadKey, 'kind', 'new', 'order', '0', 'owner', '', 'data', ARGV[6], 'state', 'queued', 'takes', 0,
    'lost', 0)
else
  local state = redis.call('HGET', leadKey, 'state')
  if state == 'inflight' then return { 'in-flight' } end
  if state == 'done' then return { 'done' } end
  for i = 1, 4 do redis.call('ZREM', KEYS[i], id) end
  redis.call('HDEL', leadKey, 'parkedUntil', 'parkReason')
end

local n = redis.call('HINCRBY', leadKey, 'takes', 1)
local token = ARGV[3] .. ':' .. n
local leaseUntil = now + lease
redis.call('ZADD', KEYS[5], leaseUntil, id)
redis.call('HSET', leadKey, 'state', 'inflight', 'token', token, 'leaseUntil', leaseUntil)
local kind, data, lost = unpack(redis.call('HMGET', leadKey, 'kind', 'data', 'lost'))
return { 'taken', kind, data, token, string.format('%d', leaseUntil), lost or '0' }
