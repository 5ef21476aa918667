-- Take or keep the lease that makes one engine instance the pacer of a campaign. Only the holder may renew it;
-- when its engine dies the lease runs out and another instance takes the campaign over.
--
-- KEYS[1] lease STRING (holder instance id, with a PX expiry)
--
-- ARGV[1] instance id asking
-- ARGV[2] lease (ms)
--
-- Returns 1 when the caller holds the lease afterwards, 0 when another instance holds it.
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
