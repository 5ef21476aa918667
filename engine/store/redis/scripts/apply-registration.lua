-- Apply one authenticated REGISTER to an agent's bindings (RFC 3261 §10.3 step 7) in one step, so two REGISTERs of
-- the same agent racing through two engine instances cannot interleave. A binding's score is its expiry; expired
-- bindings are dropped first. For a contact already bound by the same Call-ID, a CSeq not above the stored one means
-- the request is out of order and nothing changes. Both keys expire with the last binding.
--
-- KEYS[1] contacts ZSET contact URI -> expiry (ms)
-- KEYS[2] details HASH contact URI -> JSON {callId, cseq, ...what the engine stored}
--
-- ARGV[1] now (ms, the caller's clock)
-- ARGV[2] Call-ID of the REGISTER
-- ARGV[3] CSeq number of the REGISTER
-- ARGV[4] max bindings per agent
-- ARGV[5] '*' to remove every binding (Contact: *), or '' and then, from ARGV[6], triples:
--         contact URI, expiry (ms; 0 removes the binding), details JSON
--
-- Returns {'ok', uri1, expiry1, uri2, expiry2, ...} (the bindings after the change), {'out-of-order', stored cseq}
-- or {'too-many', max}.
local now = tonumber(ARGV[1])
local callId = ARGV[2]
local cseq = tonumber(ARGV[3])
local maxBindings = tonumber(ARGV[4])

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, uri in ipairs(expired) do
  redis.call('HDEL', KEYS[2], uri)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)

if ARGV[5] == '*' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {'ok'}
end

-- first pass: refuse the whole request if any binding it touches saw a newer REGISTER of the same Call-ID
for i = 6, #ARGV, 3 do
  local stored = redis.call('HGET', KEYS[2], ARGV[i])
  if stored then
    local d = cjson.decode(stored)
    if d.callId == callId and tonumber(d.cseq) >= cseq then
      return {'out-of-order', tostring(d.cseq)}
    end
  end
end

local adding = 0
for i = 6, #ARGV, 3 do
  if tonumber(ARGV[i + 1]) > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[i]) then adding = adding + 1 end
end
if adding > 0 and redis.call('ZCARD', KEYS[1]) + adding > maxBindings then
  return {'too-many', tostring(maxBindings)}
end

for i = 6, #ARGV, 3 do
  local uri = ARGV[i]
  local expiry = tonumber(ARGV[i + 1])
  if expiry == 0 then
    redis.call('ZREM', KEYS[1], uri)
    redis.call('HDEL', KEYS[2], uri)
  else
    local d = cjson.decode(ARGV[i + 2])
    d.callId = callId
    d.cseq = cseq
    redis.call('ZADD', KEYS[1], expiry, uri)
    redis.call('HSET', KEYS[2], uri, cjson.encode(d))
  end
end

local out = {'ok'}
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if #live == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return out
end
local last = 0
for i = 1, #live, 2 do
  out[#out + 1] = live[i]
  out[#out + 1] = live[i + 1]
  last = math.max(last, tonumber(live[i + 1]))
end
-- relative to the caller's clock, which is what the scores are measured on
redis.call('PEXPIRE', KEYS[1], last - now)
redis.call('PEXPIRE', KEYS[2], last - now)
return out
