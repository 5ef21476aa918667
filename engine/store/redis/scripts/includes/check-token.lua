-- A lead may be changed only by the holder of its current lease: the token handed out by take-lead.
-- Returns true when the lead is in `state` and holds `token`.
local function holdsLead(leadKey, token, state)
  local s, t = unpack(redis.call('HMGET', leadKey, 'state', 'token'))
  return s == state and t == token
end
