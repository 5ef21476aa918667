-- Load leads from the lead source into the hopper. Idempotent per lead: a lead already in the hopper (queued,
-- in flight, parked, or a recent final tombstone) is left alone, so two engines refilling from the same page add
-- each lead once. The source cursor advances only if nobody moved it since the caller read it.
--
-- KEYS[1] callbacks ZSET
-- KEYS[2] recycle ZSET
-- KEYS[3] new ZSET
-- KEYS[4] seq STRING (arrival counter for new leads)
-- KEYS[5] cursor STRING
--
-- ARGV[1] lead hash key prefix
-- ARGV[2] cursor the caller read ('' when none)
-- ARGV[3] cursor after this page ('' to leave it)
-- ARGV[4..] 5 per lead: id, kind (callback | recycle | new), at-or-priority, owner ('' none), data (JSON)
--   callback: at = callback time; recycle: at = retry time; new: priority (higher first, clamped to -99..99)
--
-- Returns { added, cursorMoved (1/0) }

local prefix = ARGV[1]
local added = 0
for i = 4, #ARGV, 5 do
  local id, kind, n, owner, data = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  local leadKey = prefix .. id
  if redis.call('EXISTS', leadKey) == 0 then
    local queue, order = KEYS[3], 0
    if kind == 'callback' then
      queue, order = KEYS[1], n
      redis.call('HSET', leadKey, 'cbat', n)
    elseif kind == 'recycle' then
      queue, order = KEYS[2], n
    elseif kind == 'new' then
      local p = math.max(-99, math.min(99, n))
      order = -p * 1e12 + redis.call('INCR', KEYS[4])
    else
      return redis.error_reply('add-leads: unknown kind ' .. tostring(kind) .. ' for lead ' .. id)
    end
    -- Lua formats plain numbers with 14 significant digits; keep every digit of the order.
    order = string.format('%d', order)
    redis.call('HSET', leadKey, 'kind', kind, 'order', order, 'owner', owner, 'data', data, 'state', 'queued',
      'takes', 0, 'lost', 0)
    redis.call('ZADD', queue, order, id)
    added = added + 1
  end
end

local moved = 0
if ARGV[3] ~= '' then
  local current = redis.call('GET', KEYS[5]) or ''
  if current == ARGV[2] then
    redis.call('SET', KEYS[5], ARGV[3])
    moved = 1
  end
end
return { added, moved }
