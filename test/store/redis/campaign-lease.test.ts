import t from 'tap'
import { CampaignLease } from '../../../engine/store/redis/campaign-lease.js'
import { redisEnv } from './fixtures/redis-env.js'

t.test('one instance at a time holds a campaign; the lease moves only when released or expired', async (t) => {
  const env = redisEnv('lease')
  t.teardown(() => env.cleanup())
  const a = new CampaignLease(env.connect(), env.prefix, 'engine-a', 60_000)
  const b = new CampaignLease(env.connect(), env.prefix, 'engine-b', 60_000)

  t.equal(await a.acquire('camp1'), true, 'a takes the free lease')
  t.equal(await b.acquire('camp1'), false, 'b cannot while a holds it')
  t.equal(await a.acquire('camp1'), true, 'a renews its own lease')
  t.equal(await b.release('camp1'), false, 'b cannot release a lease it does not hold')
  t.equal(await b.acquire('camp1'), false)
  t.equal(await a.release('camp1'), true)
  t.equal(await b.acquire('camp1'), true, 'b takes it once a let go')
  t.equal(await b.acquire('camp2'), true, 'campaigns are independent')
  t.equal(await a.acquire('camp2'), false)
})

t.test('an expired lease is taken over (engine died)', async (t) => {
  const env = redisEnv('lease-exp')
  t.teardown(() => env.cleanup())
  const redis = env.connect()
  const a = new CampaignLease(redis, env.prefix, 'engine-a', 60_000)
  const b = new CampaignLease(env.connect(), env.prefix, 'engine-b', 60_000)
  t.equal(await a.acquire('c'), true)
  // Expire it the way Redis would after the holder stopped renewing (no sleeping in tests).
  await redis.pexpire(a.key('c'), 1)
  await new Promise((r) => setImmediate(r))
  while ((await redis.exists(a.key('c'))) === 1) await new Promise((r) => setTimeout(r, 2))
  t.equal(await b.acquire('c'), true)
  t.equal(await a.acquire('c'), false, 'the dead holder does not get it back')
})

t.test('concurrent acquires: exactly one winner per round', async (t) => {
  const env = redisEnv('lease-race')
  t.teardown(() => env.cleanup())
  const leases = Array.from({ length: 6 }, (_, i) => new CampaignLease(env.connect(), env.prefix, `engine-${i}`, 60_000))
  for (let round = 0; round < 50; round++) {
    const id = `camp-${round}`
    const wins = await Promise.all(leases.map((l) => l.acquire(id)))
    t.equal(wins.filter(Boolean).length, 1, `round ${round}`)
  }
})
