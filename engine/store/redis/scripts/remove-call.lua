-- Take a call out of its queue without serving it (the customer hung up while waiting).
--
-- KEYS[1] queue ZSET
-- KEYS[2] call HASH
--
-- ARGV[1] call id
--
-- Returns 1 when the call was waiting there, else 0 (already popped by an engine).

local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then redis.call('DEL', KEYS[2]) end
return removed
