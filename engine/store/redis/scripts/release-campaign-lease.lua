-- Give up a campaign's pacing lease, but only if the caller still holds it (a late release from an instance whose
-- lease already moved must not free another instance's lease).
--
-- KEYS[1] lease STRING
--
-- ARGV[1] instance id releasing
--
-- Returns 1 when released, 0 when the caller did not hold it.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
