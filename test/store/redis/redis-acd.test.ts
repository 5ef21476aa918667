import fc from 'fast-check'
import t from 'tap'
import { applyEvent, newAgent, type Agent, type AgentEvent } from '../../../engine/acd/agent-machine.js'
import { chooseAgent, RoutingStrategies, type RoutingCandidate } from '../../../engine/acd/routing.js'
import { RedisAcd } from '../../../engine/store/redis/redis-acd.js'
import { redisEnv } from './fixtures/redis-env.js'

const T0 = 1_800_000_000_000

async function ok(acd: RedisAcd, id: string, e: AgentEvent): Promise<void> {
  const r = await acd.apply(id, e)
  if (!r.ok) throw new Error(r.error)
}

t.test('Lua reserve and reservation expiry agree with the pure state machine', async (t) => {
  const env = redisEnv('acd-agree')
  t.teardown(env.cleanup)
  const acd = new RedisAcd({ redis: env.connect(), keys: env.keys, reservationTimeoutMs: 15_000 })
  await acd.register('a1', T0, { sales: 1 })
  await ok(acd, 'a1', { type: 'login', at: T0 + 10, ready: true })
  t.same(await acd.readyAgents(), ['a1'])
  t.equal(await acd.reserve({ callId: 'c1', now: T0 + 1010, strategy: 'longest-idle' }), 'a1')
  t.same(await acd.readyAgents(), [])
  t.equal(await acd.reserve({ callId: 'c2', now: T0 + 1010, strategy: 'longest-idle' }), undefined, 'nobody left')
  t.same(await acd.expireReservations(T0 + 16_009), [], 'not yet')
  t.same(await acd.expireReservations(T0 + 16_010), [{ agentId: 'a1', callId: 'c1' }])

  let pure: Agent = newAgent('a1', T0)
  for (const e of [
    { type: 'login', at: T0 + 10, ready: true },
    { type: 'reserve', at: T0 + 1010, callId: 'c1' },
    { type: 'reserve-timeout', at: T0 + 16_010, callId: 'c1' },
  ] as AgentEvent[]) {
    const r = applyEvent(pure, e)
    if (!r.ok) throw new Error(r.error)
    pure = r.agent
  }
  const stored = await acd.get('a1')
  const { skills, version, ...agent } = stored!
  t.same(agent, pure, 'same agent as the pure machine: paused no-answer, times accounted')
  t.same(skills, { sales: 1 })
  t.ok(version > 0)
  t.equal(agent.state, 'paused')
  t.equal(agent.pauseReason, 'no-answer')

  const refused = await acd.apply('a1', { type: 'answer', at: T0 + 17_000, callId: 'c1' })
  t.notOk(refused.ok, 'too late to answer: the agent was paused')
  await ok(acd, 'a1', { type: 'ready', at: T0 + 20_000 })
  t.same(await acd.readyAgents(), ['a1'], 'back in the ready set')
})

t.test('Redis routing picks the same agent as the pure strategies', async (t) => {
  const env = redisEnv('acd-route')
  t.teardown(env.cleanup)
  const acd = new RedisAcd({ redis: env.connect(), keys: env.keys })
  let round = 0
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          idle: fc.integer({ min: 0, max: 5 }),
          calls: fc.integer({ min: 0, max: 3 }),
          talk: fc.integer({ min: 0, max: 3 }),
          sales: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
          service: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        }),
        { minLength: 0, maxLength: 6 },
      ),
      fc.constantFrom(...RoutingStrategies),
      fc.boolean(),
      // a call queue's needs: skills with the worst tier each accepts
      fc.option(fc.dictionary(fc.constantFrom('sales', 'service'), fc.integer({ min: 1, max: 3 })), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
      fc.boolean(),
      async (specs, strategy, needSkill, queueNeeds, ownerIndex, ownerOnly) => {
        round++
        const candidates: RoutingCandidate[] = []
        const ids: string[] = []
        for (const [i, s] of specs.entries()) {
          const id = `r${round}-a${i}`
          ids.push(id)
          await acd.register(id, T0, {
            ...(s.sales === undefined ? {} : { sales: s.sales }),
            ...(s.service === undefined ? {} : { service: s.service }),
          })
          // Build calls and talk time through real calls so the stats come from the state machine.
          let now = T0
          await ok(acd, id, { type: 'login', at: now, ready: true })
          for (let c = 0; c < s.calls; c++) {
            await ok(acd, id, { type: 'reserve', at: now, callId: `x${c}` })
            await ok(acd, id, { type: 'answer', at: now, callId: `x${c}` })
            now += c === 0 ? s.talk : 0
            await ok(acd, id, { type: 'hangup', at: now, callId: `x${c}` })
            await ok(acd, id, { type: 'ready', at: now })
          }
          await ok(acd, id, { type: 'pause', at: now, reason: 'break' })
          await ok(acd, id, { type: 'ready', at: T0 + 100 + s.idle })
          const a = (await acd.get(id))!
          candidates.push({
            agentId: id,
            readySince: a.since,
            calls: a.stats.calls,
            talkMs: a.stats.talkMs,
            skills: a.skills,
          })
        }
        const owner = ownerIndex === undefined ? undefined : (ids[ownerIndex] ?? 'someone-else')
        const request = {
          strategy,
          ...(needSkill ? { skill: 'sales' } : {}),
          ...(queueNeeds !== undefined ? { skills: queueNeeds } : {}),
          ...(owner !== undefined ? { ownerAgentId: owner, ownerOnly } : {}),
        }
        const expected = chooseAgent(candidates, request)
        const got = await acd.reserve({ callId: `call-${round}`, now: T0 + 1000, ...request })
        // Leave nobody ready for the next round.
        for (const id of ids) {
          const a = (await acd.get(id))!
          if (a.state === 'ready') await ok(acd, id, { type: 'pause', at: T0 + 1000, reason: 'break' })
        }
        if (got !== expected) throw new Error(`redis chose ${got}, pure chose ${expected} (${JSON.stringify(request)})`)
      },
    ),
    { numRuns: 60 },
  )
  t.pass(`60 random pools agree`)
})

t.test('two engines reserving concurrently never take the same agent', async (t) => {
  const env = redisEnv('acd-race')
  t.teardown(env.cleanup)
  const AGENTS = 6
  const LANES = 4
  const ROUNDS = 400
  const setup = new RedisAcd({ redis: env.connect(), keys: env.keys })
  for (let i = 0; i < AGENTS; i++) {
    await setup.register(`ag${i}`, T0, { sales: 1 + (i % 2) })
    await ok(setup, `ag${i}`, { type: 'login', at: T0, ready: true })
  }
  const held = new Map<string, string>()
  let reservations = 0
  let misses = 0
  let refusals = 0
  let conflicts = 0
  let now = T0

  async function engine(name: string): Promise<void> {
    const acd = new RedisAcd({ redis: env.connect(), keys: env.keys, reservationTimeoutMs: 3_600_000 })
    await Promise.all(Array.from({ length: LANES }, (_, lane) => run(acd, `${name}-${lane}`)))
  }

  async function run(acd: RedisAcd, name: string): Promise<void> {
    for (let i = 0; i < ROUNDS; i++) {
      const callId = `${name}-call${i}`
      const strategy = RoutingStrategies[i % 3]!
      const agentId = await acd.reserve({ callId, now: ++now, strategy, ...(i % 4 === 0 ? { skill: 'sales' } : {}) })
      if (!agentId) {
        misses++
        continue
      }
      reservations++
      if (held.has(agentId)) conflicts++
      held.set(agentId, callId)
      for (const e of [
        { type: 'answer', at: ++now, callId },
        { type: 'hangup', at: ++now, callId },
      ] as AgentEvent[]) {
        if (!(await acd.apply(agentId, e)).ok) refusals++
      }
      // The agent stops being ours before it is offered again.
      held.delete(agentId)
      if (!(await acd.apply(agentId, { type: 'ready', at: ++now })).ok) refusals++
    }
  }
  await Promise.all([engine('e1'), engine('e2')])
  t.equal(conflicts, 0, 'no agent was handed to a second call while held')
  t.equal(refusals, 0, 'every holder could answer, hang up and free its agent (nobody else moved it)')
  t.equal(reservations + misses, 2 * LANES * ROUNDS)
  t.ok(reservations > 1000 && misses > 0, `${reservations} reservations, ${misses} found nobody ready`)
  const agents = await Promise.all(Array.from({ length: AGENTS }, (_, i) => setup.get(`ag${i}`)))
  const calls = agents.reduce((n, a) => n + a!.stats.calls, 0)
  t.equal(calls, reservations, 'calls counted on agents = reservations made')
  t.ok(agents.every((a) => a!.state === 'ready'), 'all agents ready at the end')
  t.equal((await setup.readyAgents()).length, AGENTS)
})

t.test('queues: priority then waiting time, each call popped once across engines', async (t) => {
  const env = redisEnv('acd-queue')
  t.teardown(env.cleanup)
  const a = new RedisAcd({ redis: env.connect(), keys: env.keys })
  const b = new RedisAcd({ redis: env.connect(), keys: env.keys })
  t.ok(await a.enqueue({ callId: 'low-old', queueId: 'sales', priority: 0, enqueuedAt: T0 }))
  t.ok(await a.enqueue({ callId: 'high-new', queueId: 'service', priority: 5, enqueuedAt: T0 + 500 }))
  t.ok(await a.enqueue({ callId: 'low-new', queueId: 'service', priority: 0, enqueuedAt: T0 + 100 }))
  t.notOk(await a.enqueue({ callId: 'low-old', queueId: 'sales', priority: 0, enqueuedAt: T0 }), 'no duplicates')
  t.ok(await a.removeCall('service', 'low-new'), 'customer hung up while waiting')
  t.notOk(await a.removeCall('service', 'low-new'))
  t.equal((await a.popCall(['sales', 'service']))?.callId, 'high-new')
  t.equal((await b.popCall(['sales', 'service']))?.callId, 'low-old')
  t.equal(await a.popCall(['sales', 'service']), undefined)

  const N = 2000
  for (let i = 0; i < N; i += 200) {
    await Promise.all(
      Array.from({ length: 200 }, (_, j) =>
        a.enqueue({ callId: `q${i + j}`, queueId: (i + j) % 2 ? 'sales' : 'service', priority: (i + j) % 3, enqueuedAt: T0 + i + j }),
      ),
    )
  }
  const popped: string[] = []
  async function drain(acd: RedisAcd): Promise<void> {
    for (;;) {
      const c = await acd.popCall(['sales', 'service'])
      if (!c) return
      popped.push(c.callId)
    }
  }
  await Promise.all([drain(a), drain(b)])
  t.equal(popped.length, N)
  t.equal(new Set(popped).size, N, 'each call popped exactly once')
})

t.test('dispatch pops a call together with the agent it needs; unmet needs wait', async (t) => {
  const env = redisEnv('acd-dispatch')
  t.teardown(env.cleanup)
  const acd = new RedisAcd({ redis: env.connect(), keys: env.keys })
  await acd.register('ann', T0, { service: 1 })
  await acd.register('bob', T0, { service: 2 })
  await ok(acd, 'ann', { type: 'login', at: T0, ready: true })
  await ok(acd, 'bob', { type: 'login', at: T0 + 5, ready: true })
  await acd.enqueue({ callId: 'legal1', queueId: 'legal', priority: 9, enqueuedAt: T0, skill: 'legal' })
  await acd.enqueue({ callId: 'svc1', queueId: 'service', priority: 0, enqueuedAt: T0 + 1, skill: 'service' })
  await acd.enqueue({ callId: 'bobs', queueId: 'service', priority: 0, enqueuedAt: T0 + 2, ownerAgentId: 'bob', ownerOnly: true })
  let d = await acd.dispatch(['legal', 'service'], T0 + 10, 'longest-idle')
  t.same([d?.call.callId, d?.agentId], ['svc1', 'ann'], 'no legal agent: the service call goes, to the best tier')
  d = await acd.dispatch(['legal', 'service'], T0 + 11, 'longest-idle')
  t.same([d?.call.callId, d?.agentId], ['bobs', 'bob'], 'owner-only call to its owner')
  t.equal(await acd.dispatch(['legal', 'service'], T0 + 12, 'longest-idle'), undefined)
  t.equal(await acd.queueLength('legal'), 1, 'the legal call still waits')
  t.equal((await acd.get('ann'))?.callId, 'svc1')
})
