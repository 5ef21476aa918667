/**
 * DrachtioTelephony enforces a trunk's channel cap through the shared Redis caps (issue 5): with one channel, a
 * second call is refused while the first is up (TelephonyRefused carrying the cap), and the channel comes back when
 * the first call ends, on the real Redis, the drachtio double and a sipp gateway.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { TrunkCaps } from '../../../engine/store/redis/trunk-caps.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import { gateway, harness, request } from '../drachtio/telephony-harness.js'

const prefix = `test-trunkcap-${randomUUID()}`
const redis = new Redis({ host: '127.0.0.1', port: 6379 })
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

t.test('one channel: the second call is refused until the first ends', async (t) => {
  const caps = new TrunkCaps(redis, prefix, new RealClock())
  const gw = await gateway('carrier-answer-wait-bye.xml', {}, 30, 2)
  const h = await harness({ trunks: ({ trunk }) => [{ ...trunk(gw), maxChannels: 1, maxCps: 10 }], caps })
  t.teardown(() => h.close())
  const first = request()
  await h.port.originate(first)
  await h.waitFor('answered', first.callId)
  t.equal(await caps.inUse('carrier-a'), 1)
  const refused = await h.port.originate(request()).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(refused instanceof TelephonyRefused, 'refused')
  t.equal((refused as TelephonyRefused).cap?.granted, false)
  t.match((refused as TelephonyRefused).message, /all 1 channels in use/)
  t.equal(h.port.activeCalls(), 1, 'the refused call left nothing behind')
  await h.port.hangup(first.callId, 'test')
  await h.waitFor('ended', first.callId)
  for (let i = 0; i < 100 && (await caps.inUse('carrier-a')) !== 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.equal(await caps.inUse('carrier-a'), 0, 'the channel was given back')
  const third = request()
  await h.port.originate(third)
  await h.waitFor('answered', third.callId)
  await h.port.hangup(third.callId, 'test')
  await h.waitFor('ended', third.callId)
  t.equal((await gw.done).code, 0, 'sipp saw both calls through')
  for (let i = 0; i < 100 && (await caps.inUse('carrier-a')) !== 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.equal(await caps.inUse('carrier-a'), 0)
})
