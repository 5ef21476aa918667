/**
 * Two engine instances (two connections) refill from one source and take, release and complete leads of one
 * campaign concurrently. The lease never expires here (time stands still), so a lead taken twice would show as a
 * holder whose release/complete is refused (the second take replaced its token): every end must succeed, every
 * token is unique, and every lead is completed exactly once.
 */
import t from 'tap'
import type { Lead } from '../../../engine/leads/lead.js'
import { MemoryLeadSource } from '../../../engine/leads/lead-source.js'
import { RedisHopper } from '../../../engine/store/redis/redis-hopper.js'
import { redisEnv } from './fixtures/redis-env.js'
import { LeadNumberCipher } from '../../../engine/store/sql/lead-numbers.js'
import { testPii } from '../../fixtures/pii.js'

/** One deployment's keys: every hopper of a test reads what the others sealed. */
const hopperNumbers = new LeadNumberCipher(testPii())

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0)
const LEADS = 3000

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

t.test('two engines never hold the same lead at once', async (t) => {
  const env = redisEnv('hopper-race')
  t.teardown(env.cleanup)
  const leads: Lead[] = []
  for (let i = 0; i < LEADS; i++) {
    leads.push({ id: `L${i}`, campaignId: 'race', phone: '+8613800000000', status: 'new', attemptTimes: [] })
  }
  const source = new MemoryLeadSource(leads)
  const tokens = new Set<string>()
  const completed = new Map<string, number>()
  let takes = 0
  let releases = 0
  let refused = 0

  async function engine(name: string, seed: number): Promise<void> {
    const random = rng(seed)
    const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'race', source, keys: env.keys, instanceId: name })
    for (;;) {
      const counts = await hopper.counts()
      let exhausted = false
      if (counts.new < 50) exhausted = (await hopper.refill(1 + Math.floor(random() * 200))).exhausted
      const { leads: got } = await hopper.take({ now: T0, count: 1 + Math.floor(random() * 8) })
      if (got.length === 0) {
        if (exhausted && counts.new === 0 && counts.inflight === 0) return
        continue
      }
      takes += got.length
      await Promise.all(
        got.map(async (lead) => {
          tokens.add(`${lead.lead.id}|${lead.token}`)
          if (random() < 0.3) {
            releases++
            if (!(await hopper.release(lead))) refused++
          } else {
            const res = await hopper.complete(lead, { status: 'contacted', at: T0, attempted: true })
            if (!res.filed) refused++
            completed.set(lead.lead.id, (completed.get(lead.lead.id) ?? 0) + 1)
          }
        }),
      )
    }
  }

  await Promise.all([engine('engine-a', 1), engine('engine-b', 2)])
  t.equal(refused, 0, 'no holder ever found its lead taken by the other engine')
  t.equal(tokens.size, takes, 'every take of a lead handed out a distinct token')
  t.equal(completed.size, LEADS, 'every lead was completed')
  t.ok([...completed.values()].every((n) => n === 1), 'each exactly once')
  t.equal(takes, LEADS + releases, 'a lead is taken again only after a release')
  t.ok(releases > 500, `releases exercised (${releases})`)
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'race', source, keys: env.keys })
  t.same(await hopper.counts(), { callbacks: 0, recycle: 0, new: 0, parked: 0, inflight: 0 })
})

t.test('two engines with short leases and a share of abandoned leads: each lead filed once, abandoned ones come back', async (t) => {
  const env = redisEnv('hopper-expiry-race')
  t.teardown(env.cleanup)
  const N = 1500
  const leads: Lead[] = []
  for (let i = 0; i < N; i++) {
    leads.push({ id: `L${i}`, campaignId: 'exp', phone: '+8613800000000', status: 'new', attemptTimes: [] })
  }
  const source = new MemoryLeadSource(leads)
  const filed = new Map<string, number>()
  let now = T0
  let abandoned = 0
  let reclaimed = 0
  let late = 0

  async function engine(name: string, seed: number): Promise<void> {
    const random = rng(seed)
    const hopper = new RedisHopper({ numbers: hopperNumbers,
      redis: env.connect(),
      campaignId: 'exp',
      source,
      keys: env.keys,
      instanceId: name,
      leaseMs: 40,
    })
    let idle = 0
    while (idle < 200) {
      await hopper.topUp(20, 100)
      // The injected clock moves on with every take, so leases run out while engines work.
      const res = await hopper.take({ now: (now += 1), count: 1 + Math.floor(random() * 4) })
      reclaimed += res.reclaimed
      idle = res.leads.length === 0 ? idle + 1 : 0
      await Promise.all(
        res.leads.map(async (lead) => {
          if (random() < 0.2) {
            abandoned++ // this "engine" dies with the lead
            return
          }
          const done = await hopper.complete(lead, { status: 'contacted', at: now, attempted: true })
          if (done.filed) filed.set(lead.lead.id, (filed.get(lead.lead.id) ?? 0) + 1)
          else late++
        }),
      )
    }
  }

  await Promise.all([engine('engine-a', 3), engine('engine-b', 4)])
  t.equal(filed.size, N, 'every lead was eventually completed by a live holder')
  t.ok([...filed.values()].every((n) => n === 1), 'never completed by two holders')
  t.ok(abandoned > 100, `${abandoned} leads abandoned mid-attempt`)
  t.equal(reclaimed, abandoned + late, 'every abandoned or overtaken lease was reclaimed once')
  t.comment(`abandoned ${abandoned}, reclaimed ${reclaimed}, completions refused after expiry ${late}`)
})
