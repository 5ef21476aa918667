/**
 * Trunk caps across engine instances on the real Redis: two clients (two "engines") race for one trunk's channels
 * and CPS tokens; the scripts grant exactly the contract, release gives channels back, and dead engines' leases run
 * out. Time is a VirtualClock passed to both, so the CPS bucket is checked without timing thresholds.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { TrunkCaps } from '../../../engine/store/redis/trunk-caps.js'

const prefix = `test-trunk-${randomUUID()}`
const a = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false })
const b = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false })
t.teardown(async () => {
  const keys = await a.keys(`${prefix}:*`)
  if (keys.length > 0) await a.del(...keys)
  a.disconnect()
  b.disconnect()
})

t.test('two engines racing for 5 channels get exactly 5', async (t) => {
  const clock = new VirtualClock(1_000_000)
  const e1 = new TrunkCaps(a, prefix, clock)
  const e2 = new TrunkCaps(b, prefix, clock)
  const caps = { maxChannels: 5, maxCps: 0 }
  const tries = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? e1 : e2).acquire('race-ch', `call-${i}`, caps))
  const grants = await Promise.all(tries)
  t.equal(grants.filter((g) => g.granted).length, 5)
  t.ok(grants.filter((g) => !g.granted).every((g) => !g.granted && g.limit === 'channels'), 'refusals say why')
  t.equal(await e1.inUse('race-ch'), 5)
  const holder = grants.findIndex((g) => g.granted)
  t.equal(await e2.release('race-ch', `call-${holder}`), true, 'a channel released by the other engine')
  t.equal(await e2.release('race-ch', `call-${holder}`), false, 'a second release is harmless')
  const again = await e1.acquire('race-ch', 'call-new', caps)
  t.ok(again.granted, 'the freed channel can be taken again')
  t.ok(!(await e2.acquire('race-ch', 'call-newer', caps)).granted, 'and the trunk is full again')
})

t.test('the CPS cap holds across engines, and refills with time', async (t) => {
  const clock = new VirtualClock(5_000_000)
  const e1 = new TrunkCaps(a, prefix, clock)
  const e2 = new TrunkCaps(b, prefix, clock)
  const caps = { maxChannels: 0, maxCps: 3 }
  const burst = async (tag: string) =>
    (await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? e1 : e2).acquire('race-cps', `${tag}-${i}`, caps)))).filter((g) => g.granted).length
  t.equal(await burst('s0'), 3, 'a full bucket: 3 calls in the first instant')
  const refused = await e1.acquire('race-cps', 'late', caps)
  t.ok(!refused.granted && refused.limit === 'cps' && refused.retryInMs > 0 && refused.retryInMs <= 334, 'the refusal says when a token comes')
  clock.advanceBy(1000)
  t.equal(await burst('s1'), 3, 'one second later, 3 more')
  clock.advanceBy(333)
  t.equal(await burst('s2'), 0, 'a third of a token short of one')
  clock.advanceBy(1)
  t.equal(await burst('s3'), 1, 'then exactly one')
})

t.test('a dead engine\'s channels come back when their leases run out; renewing keeps a live call\'s', async (t) => {
  const clock = new VirtualClock(9_000_000)
  const dead = new TrunkCaps(a, prefix, clock, 60_000)
  const live = new TrunkCaps(b, prefix, clock, 60_000)
  const caps = { maxChannels: 2 }
  t.ok((await dead.acquire('lease', 'dead-1', caps)).granted)
  t.ok((await live.acquire('lease', 'live-1', caps)).granted)
  t.notOk((await live.acquire('lease', 'live-2', caps)).granted, 'full')
  clock.advanceBy(30_000)
  t.ok((await live.acquire('lease', 'live-1', caps)).granted, 'renewal of a held channel is granted while full')
  clock.advanceBy(30_000)
  t.ok((await live.acquire('lease', 'live-2', caps)).granted, 'the dead engine\'s channel expired and was taken')
  t.equal(await live.inUse('lease'), 2)
})
