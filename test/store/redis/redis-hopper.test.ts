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
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

function lead(id: string, extra: Partial<Lead> = {}): Lead {
  return { id, campaignId: 'c1', phone: '+8613800000000', status: 'new', attemptTimes: [], ...extra }
}

t.test('take order: due callbacks, then due recycled, then new by priority and arrival', async (t) => {
  const env = redisEnv('order')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([
    lead('n1'),
    lead('n2', { priority: 5 }),
    lead('r1', { status: 'busy', attemptTimes: [T0 - 20 * MIN] }),
    lead('r2', { status: 'busy', attemptTimes: [T0 - 1 * MIN] }),
    lead('cb1', { status: 'callback', callbackAt: T0 - MIN }),
    lead('cb2', { status: 'callback', callbackAt: T0 + HOUR }),
    lead('gone', { status: 'refused', attemptTimes: [T0 - DAY] }),
  ])
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c1', source, keys: env.keys, leaseMs: DAY })
  const r = await hopper.refill(100)
  t.equal(r.added, 6, 'the refused lead is not loaded')
  t.same(await hopper.counts(), { callbacks: 2, recycle: 2, new: 2, parked: 0, inflight: 0 })
  t.equal((await hopper.refill(100)).added, 0, 'a second refill adds nothing')

  const taken = await hopper.take({ now: T0, count: 10 })
  t.same(
    taken.leads.map((l) => [l.lead.id, l.queue]),
    [
      ['cb1', 'callback'],
      ['r1', 'recycle'],
      ['n2', 'new'],
      ['n1', 'new'],
    ],
    'cb2 (not due) and r2 (busy 1 min ago, retry after 10) wait',
  )
  t.same(await hopper.counts(), { callbacks: 1, recycle: 1, new: 0, parked: 0, inflight: 4 })
  const later = await hopper.take({ now: T0 + HOUR, count: 10 })
  t.same(later.leads.map((l) => l.lead.id), ['cb2', 'r2'])
})

t.test('owned callback: offered to its owner during the grace, then to anyone preferring the owner', async (t) => {
  const env = redisEnv('owner')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource()
  const hopper = new RedisHopper({ numbers: hopperNumbers,
    redis: env.connect(),
    campaignId: 'c1',
    source,
    keys: env.keys,
    ownerGraceMs: 10 * MIN,
    leaseMs: DAY,
  })
  await hopper.add([
    lead('own', { status: 'callback', callbackAt: T0, ownerAgentId: 'alice' }),
    lead('free', { status: 'callback', callbackAt: T0 + 1 }),
  ])
  let res = await hopper.take({ now: T0 + MIN, count: 5, ableAgents: ['bob'] })
  t.same(res.leads.map((l) => l.lead.id), ['free'], 'alice is not able: her callback waits, the next one goes')
  t.same(res.leads[0]!.route, { kind: 'any' })
  t.equal((await hopper.counts()).callbacks, 1)

  res = await hopper.take({ now: T0 + 2 * MIN, count: 5, ableAgents: ['bob', 'alice'] })
  t.same(res.leads.map((l) => l.lead.id), ['own'])
  t.same(res.leads[0]!.route, { kind: 'owner', agentId: 'alice', until: T0 + 10 * MIN })
  t.ok(await hopper.release(res.leads[0]!))

  res = await hopper.take({ now: T0 + 10 * MIN, count: 5, ableAgents: [] })
  t.same(res.leads.map((l) => l.lead.id), ['own'], 'after the grace anyone may take it')
  t.same(res.leads[0]!.route, { kind: 'prefer', agentId: 'alice' })
  t.ok(await hopper.release(res.leads[0]!))

  res = await hopper.take({ now: T0 + 3 * MIN, count: 5 })
  t.same(res.leads[0]!.route.kind, 'owner', 'without a filter an owned callback is taken and routed to its owner')
})

t.test('a dead engine: its lease runs out and another engine gets the lead back; late writes are refused', async (t) => {
  const env = redisEnv('lease')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([lead('a'), lead('b')])
  const opts = { campaignId: 'c1', source, keys: env.keys, leaseMs: 30_000 }
  const dead = new RedisHopper({ numbers: hopperNumbers, ...opts, redis: env.connect(), instanceId: 'dead' })
  const live = new RedisHopper({ numbers: hopperNumbers, ...opts, redis: env.connect(), instanceId: 'live' })
  await dead.refill(10)
  const mine = await dead.take({ now: T0, count: 1 })
  t.equal(mine.leads[0]!.lead.id, 'a')
  t.equal(mine.leads[0]!.leaseUntil, T0 + 30_000)

  let other = await live.take({ now: T0 + 29_999, count: 5 })
  t.same(other.leads.map((l) => l.lead.id), ['b'], 'a is still leased')
  t.equal(other.reclaimed, 0)
  other = await live.take({ now: T0 + 30_000, count: 5 })
  t.equal(other.reclaimed, 1)
  t.same(other.leads.map((l) => l.lead.id), ['a'])
  t.equal(other.leads[0]!.lostLeases, 1, 'the lost attempt is reported')
  t.not(other.leads[0]!.token, mine.leads[0]!.token)

  t.equal(await dead.renew(mine.leads[0]!, T0 + 30_001), undefined, 'the dead engine cannot renew')
  t.equal(await dead.release(mine.leads[0]!), false)
  t.equal(await dead.park(mine.leads[0]!, T0 + DAY, 'late'), false)
  const late = await dead.complete(mine.leads[0]!, { status: 'no-answer', at: T0 + 31_000, attempted: true })
  t.equal(late.filed, false, 'its completion is recorded in the source but does not move the lead')
  t.same(await live.counts(), { callbacks: 0, recycle: 0, new: 0, parked: 0, inflight: 2 })

  const renewed = await live.renew(other.leads[0]!, T0 + 40_000)
  t.equal(renewed, T0 + 70_000)
  const again = await dead.take({ now: T0 + 60_001, count: 5 })
  t.equal(again.leads.length, 1, 'b (not renewed) comes back')
  t.equal(again.leads[0]!.lead.id, 'b')
})

t.test('screening park: the lead waits until its retryAt, then returns to its own queue', async (t) => {
  const env = redisEnv('park')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([lead('a'), lead('b')])
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c1', source, keys: env.keys, leaseMs: DAY })
  await hopper.refill(10)
  const [a] = (await hopper.take({ now: T0, count: 1 })).leads
  t.ok(await hopper.park(a!, T0 + 2 * HOUR, 'outside calling hours'))
  t.same(await hopper.counts(), { callbacks: 0, recycle: 0, new: 1, parked: 1, inflight: 0 })
  let res = await hopper.take({ now: T0 + HOUR, count: 5 })
  t.same(res.leads.map((l) => l.lead.id), ['b'])
  res = await hopper.take({ now: T0 + 2 * HOUR, count: 5 })
  t.equal(res.parksEnded, 1)
  t.same(res.leads.map((l) => [l.lead.id, l.queue]), [['a', 'new']])
})

t.test('complete files the lead by the recycling rules and writes the source', async (t) => {
  const env = redisEnv('complete')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([lead('na'), lead('ref'), lead('cb')])
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c1', source, keys: env.keys })
  await hopper.refill(10)
  const taken = (await hopper.take({ now: T0, count: 3 })).leads
  const byId = new Map(taken.map((x) => [x.lead.id, x]))
  const na = await hopper.complete(byId.get('na')!, { status: 'no-answer', at: T0 + MIN, attempted: true })
  t.same(na.decision, { kind: 'retry', at: T0 + MIN + DAY })
  t.ok(na.filed)
  const ref = await hopper.complete(byId.get('ref')!, { status: 'refused', at: T0 + MIN, attempted: true })
  t.same(ref.decision, { kind: 'final', reason: 'final-status' })
  const cb = await hopper.complete(byId.get('cb')!, {
    status: 'callback',
    at: T0 + MIN,
    attempted: true,
    callbackAt: T0 + 3 * HOUR,
    ownerAgentId: 'carol',
  })
  t.same(cb.decision, { kind: 'callback', at: T0 + 3 * HOUR, ownerAgentId: 'carol' })
  t.same(source.get('c1', 'na')!.attemptTimes, [T0 + MIN])
  t.equal(source.get('c1', 'ref')!.status, 'refused')
  t.equal(source.get('c1', 'cb')!.ownerAgentId, 'carol')

  t.equal((await hopper.take({ now: T0 + DAY, count: 5 })).leads.length, 1, 'callback due, no-answer not yet')
  const next = await hopper.take({ now: T0 + MIN + DAY, count: 5 })
  t.same(next.leads.map((l) => [l.lead.id, l.lead.attemptTimes.length]), [['na', 1]])
  // A refused lead is a tombstone: loading it again from a stale page does nothing.
  t.equal(await hopper.add([lead('ref')]), 0)
})

t.test('booking a callback moves a waiting lead to the callbacks queue; not while in flight', async (t) => {
  const env = redisEnv('book')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([lead('a'), lead('b'), lead('c')])
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c1', source, keys: env.keys, leaseMs: DAY })
  await hopper.refill(10)
  const [a] = (await hopper.take({ now: T0, count: 1 })).leads
  t.notOk(await hopper.bookCallback(a!.lead, T0 + HOUR, 'ann'), 'a is in flight')
  t.ok(await hopper.bookCallback(source.get('c1', 'c')!, T0 + 2 * HOUR - 5 * MIN, 'ann'))
  source.add(lead('d'))
  t.ok(await hopper.bookCallback(lead('d'), T0 + 2 * HOUR), 'a lead new to the hopper is added')
  t.same(await hopper.counts(), { callbacks: 2, recycle: 0, new: 1, parked: 0, inflight: 1 })
  t.equal(source.get('c1', 'c')!.status, 'callback')
  const res = await hopper.take({ now: T0 + 2 * HOUR, count: 5, ableAgents: ['ann'] })
  t.same(res.leads.map((l) => [l.lead.id, l.route.kind, l.lead.callbackAt]), [
    ['c', 'owner', T0 + 2 * HOUR - 5 * MIN],
    ['d', 'any', T0 + 2 * HOUR],
    ['b', 'any', undefined],
  ])
})

t.test('claim (click-to-dial): a named lead is taken wherever it waits, or added taken; never while another call has it', async (t) => {
  const env = redisEnv('claim')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([lead('queued'), lead('parked'), lead('later')])
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c1', source, keys: env.keys, leaseMs: DAY })
  await hopper.add([lead('queued'), lead('parked')])
  for (const l of (await hopper.take({ now: T0, count: 2 })).leads) {
    if (l.lead.id === 'parked') t.ok(await hopper.park(l, T0 + HOUR, 'outside-hours'))
    else t.ok(await hopper.release(l))
  }
  t.same(await hopper.counts(), { callbacks: 0, recycle: 0, new: 1, parked: 1, inflight: 0 })

  const queued = await hopper.claim(lead('queued'), T0)
  t.equal(typeof queued, 'object', 'a queued lead is taken by name')
  const parked = await hopper.claim(lead('parked'), T0)
  t.equal(typeof parked, 'object', 'so is a parked one')
  t.same(await hopper.counts(), { callbacks: 0, recycle: 0, new: 0, parked: 0, inflight: 2 }, 'out of their queues, in flight')
  t.equal(await hopper.claim(lead('queued'), T0), 'in-flight', 'not while a call has it')
  t.same((await hopper.take({ now: T0 + 2 * HOUR, count: 5 })).leads, [], 'nor does the dialer get them')

  // a lead the hopper does not hold yet is added taken, and a refill does not bring it in a second time
  const later = await hopper.claim(lead('later', { phone: '+8613800000001' }), T0)
  t.ok(typeof later === 'object' && later.lead.phone === '+8613800000001', 'taken with the data given')
  t.equal((await hopper.refill(100)).added, 0, 'the refill leaves it alone (and the others)')
  t.same((await hopper.take({ now: T0 + 2 * HOUR, count: 5 })).leads, [])

  // the claimed lease works as a taken one: completing it files the lead, and a final lead cannot be claimed again
  if (typeof queued !== 'object') return
  const done = await hopper.complete(queued, { status: 'contacted', at: T0 + MIN, attempted: true })
  t.ok(done.filed)
  t.equal(await hopper.claim(lead('queued'), T0 + 2 * MIN), 'done', 'a contacted lead is not reopened')
})

t.test("Redis holds the hopper's leads with their numbers sealed; a lead an earlier version stored in the clear still reads", async (t) => {
  const env = redisEnv('sealed')
  t.teardown(env.cleanup)
  const source = new MemoryLeadSource([lead('s1', { phone: '138 0013 8000', e164: '+8613800138000' }), lead('s2', { phone: '13900139000' })])
  const hopper = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c1', source, keys: env.keys })
  await hopper.refill(10)
  const r = env.connect()
  const dump: string[] = []
  for (const key of await r.keys(`${env.prefix}*`)) {
    const type = await r.type(key)
    if (type === 'hash') dump.push(JSON.stringify(await r.hgetall(key)))
    else if (type === 'zset') dump.push(JSON.stringify(await r.zrange(key, 0, -1)))
    else if (type === 'string') dump.push((await r.get(key)) ?? '')
  }
  t.ok(dump.length > 0)
  t.notOk(dump.some((v) => /0013|13800|13900/.test(v)), 'no key of the hopper holds a number in the clear')
  const taken = (await hopper.take({ now: T0, count: 2 })).leads.map((x) => x.lead).sort((a, b) => a.id.localeCompare(b.id))
  t.match(taken[0], { id: 's1', phone: '138 0013 8000', e164: '+8613800138000' }, 'taken with its number, as written and E.164')
  t.match(taken[1], { id: 's2', phone: '13900139000' })
  t.equal(taken[1]!.e164, undefined, 'no E.164 form when there was none')

  // an earlier version's lead: JSON with the number in the clear, still taken as it is
  const legacy = new MemoryLeadSource([lead('old', { campaignId: 'c2', phone: '+8613700137000' })])
  const h2 = new RedisHopper({ numbers: hopperNumbers, redis: env.connect(), campaignId: 'c2', source: legacy, keys: env.keys })
  await h2.refill(10)
  const key = `${h2.keys.leadPrefix}old`
  t.match(await r.hget(key, 'data'), /"sealed"/)
  await r.hset(key, 'data', JSON.stringify(lead('old', { campaignId: 'c2', phone: '+8613700137000' })))
  t.match((await h2.take({ now: T0, count: 1 })).leads[0]?.lead, { id: 'old', phone: '+8613700137000' })
})
