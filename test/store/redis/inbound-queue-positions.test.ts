/**
 * Inbound queue positions shared by engines (engine/store/redis/inbound-queue-positions.ts), on the real Redis: two
 * engines' callers are ranked together by the time they were queued; a caller who leaves moves the others up; a
 * member an engine left behind (it died) stops counting once it is older than the longest wait.
 */
import t from 'tap'
import { RedisQueuePositions } from '../../../engine/store/redis/inbound-queue-positions.js'
import { redisEnv } from './fixtures/redis-env.js'

const T0 = Date.UTC(2026, 10, 24, 2, 0, 0)
const MAX_WAIT = 120_000

t.test('positions across engines, by time queued; leaving moves the others up; stale members expire', async (t) => {
  const env = redisEnv('inbound-positions')
  t.teardown(env.cleanup)
  const one = new RedisQueuePositions(env.connect(), env.keys)
  const two = new RedisQueuePositions(env.connect(), env.keys)
  await one.join('sales', 'a', T0)
  await two.join('sales', 'b', T0 + 1000)
  await one.join('sales', 'c', T0 + 2000)
  await two.join('service', 'd', T0 + 500)
  const at = T0 + 3000
  t.same(
    [await one.position('sales', 'a', at, MAX_WAIT), await two.position('sales', 'b', at, MAX_WAIT), await one.position('sales', 'c', at, MAX_WAIT)],
    [1, 2, 3],
    'one order over both engines',
  )
  t.equal(await two.position('service', 'd', at, MAX_WAIT), 1, 'queues are counted apart')
  await two.leave('sales', 'b')
  t.equal(await one.position('sales', 'c', at, MAX_WAIT), 2, 'a caller who left no longer counts')
  t.equal(await one.position('sales', 'b', at, MAX_WAIT), 1, 'a caller no longer waiting has nobody ahead')
  // 'a' belonged to an engine that died: past the longest wait (and a minute) it is dropped
  t.equal(await one.position('sales', 'c', T0 + MAX_WAIT + 60_000, MAX_WAIT), 2, 'not yet stale')
  t.equal(await one.position('sales', 'c', T0 + MAX_WAIT + 60_001, MAX_WAIT), 1, 'stale: dropped')
})
