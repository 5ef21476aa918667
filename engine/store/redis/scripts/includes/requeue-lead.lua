-- Put a lead back in the queue its kind names (callback, recycle, new) at its stored order, as "queued".
-- Used when a lease expires, a park ends or a lead is released untouched. The caller has already removed it
-- from the inflight / parked set.
local function requeueLead(leadKey, id, callbacksKey, recycleKey, freshKey)
  local kind, order = unpack(redis.call('HMGET', leadKey, 'kind', 'order'))
  local queue = freshKey
  if kind == 'callback' then queue = callbacksKey elseif kind == 'recycle' then queue = recycleKey end
  redis.call('ZADD', queue, order or '0', id)
  redis.call('HSET', leadKey, 'state', 'queued')
  redis.call('HDEL', leadKey, 'token', 'leaseUntil', 'parkedUntil', 'parkReason')
end
