/**
 * Random operations by two engines against a model of leases: a lead is never held validly by two holders, a
 * holder's release/park/complete succeeds exactly while its lease has not been reclaimed, and every lead is always
 * in exactly one place (a queue, parked, in flight, or done): none is lost or duplicated, whatever the order.
 */
import fc from 'fast-check'
import t from 'tap'
import type { Lead } from '../../../engine/leads/lead.js'
import { MemoryLeadSource } from '../../../engine/leads/lead-source.js'
import type { TakenLead } from '../../../engine/leads/hopper.js'
import { RedisHopper } from '../../../engine/store/redis/redis-hopper.js'
import { redisEnv } from './fixtures/redis-env.js'
import { LeadNumberCipher } from '../../../engine/store/sql/lead-numbers.js'
import { testPii } from '../../fixtures/pii.js'

/** One deployment's keys: every hopper of a test reads what the others sealed. */
const hopperNumbers = new LeadNumberCipher(testPii())

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0)
const LEASE = 120_000
const LEADS = 10

type Op =
  | { kind: 'take'; engine: number; count: number }
  | { kind: 'release' | 'park' | 'renew'; pick: number }
  | { kind: 'complete'; pick: number; status: 'busy' | 'no-answer' | 'refused' | 'callback' }
  | { kind: 'advance'; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('take' as const), engine: fc.integer({ min: 0, max: 1 }), count: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ kind: fc.constantFrom('release' as const, 'park' as const, 'renew' as const), pick: fc.nat() }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat(), status: fc.constantFrom('busy' as const, 'no-answer' as const, 'refused' as const, 'callback' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 15 * 60_000 }) }) },
)

interface Holding {
  taken: TakenLead
  leaseUntil: number
  valid: boolean
}

t.test('hopper leases against a model', async (t) => {
  const env = redisEnv('hopper-model')
  t.teardown(env.cleanup)
  const redis = env.connect()
  const redis2 = env.connect()
  let run = 0
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
      const campaignId = `m${run++}`
      const leads: Lead[] = Array.from({ length: LEADS }, (_, i) => ({
        id: `L${i}`,
        campaignId,
        phone: '+8613800000000',
        status: 'new',
        attemptTimes: [],
      }))
      const source = new MemoryLeadSource(leads)
      const base = { campaignId, source, keys: env.keys, leaseMs: LEASE, ownerGraceMs: 60_000 }
      const engines = [
        new RedisHopper({ numbers: hopperNumbers, ...base, redis, instanceId: 'e0' }),
        new RedisHopper({ numbers: hopperNumbers, ...base, redis: redis2, instanceId: 'e1' }),
      ]
      await engines[0]!.refill(LEADS)
      let now = T0
      let holdings: Holding[] = []
      const check = (cond: boolean, msg: string): void => {
        if (!cond) throw new Error(`${msg} (ops: ${JSON.stringify(ops)})`)
      }
      for (const op of ops) {
        if (op.kind === 'advance') {
          now += op.ms
          continue
        }
        if (op.kind === 'take') {
          // A take reclaims every lease run out by now: their holders lose them.
          for (const h of holdings) if (h.leaseUntil <= now) h.valid = false
          const res = await engines[op.engine]!.take({ now, count: op.count })
          for (const got of res.leads) {
            check(!holdings.some((h) => h.valid && h.taken.lead.id === got.lead.id), `lead ${got.lead.id} taken twice`)
            holdings.push({ taken: got, leaseUntil: got.leaseUntil, valid: true })
          }
          continue
        }
        if (holdings.length === 0) continue
        const h = holdings[op.pick % holdings.length]!
        const hopper = engines[Number(h.taken.token.startsWith('e1'))]!
        if (op.kind === 'renew') {
          const until = await hopper.renew(h.taken, now)
          const expect = h.valid && h.leaseUntil > now
          check((until !== undefined) === expect, `renew gave ${until}, model expected ${expect}`)
          if (until !== undefined) h.leaseUntil = until
          continue
        }
        let done: boolean
        if (op.kind === 'release') done = await hopper.release(h.taken)
        else if (op.kind === 'park') done = await hopper.park(h.taken, now + 60_000, 'calling hours')
        else if (op.kind === 'complete') {
          const res = await hopper.complete(h.taken, {
            status: op.status,
            at: now,
            attempted: true,
            ...(op.status === 'callback' ? { callbackAt: now + 30_000, ownerAgentId: 'ann' } : {}),
          })
          done = res.filed
        } else throw new Error(`unhandled op ${op.kind}`)
        check(done === h.valid, `${op.kind} returned ${done}, model says lease valid=${h.valid}`)
        holdings = holdings.filter((x) => x !== h)
      }
      // Conservation: every lead in exactly one place.
      const k = engines[0]!.keys
      const places = await Promise.all(
        [k.callbacks, k.recycle, k.fresh, k.parked, k.inflight].map((key) => redis.zrange(key, 0, -1)),
      )
      for (const lead of leads) {
        const inSets = places.filter((p) => p.includes(lead.id)).length
        const state = await redis.hget(`${k.leadPrefix}${lead.id}`, 'state')
        check(inSets + (state === 'done' ? 1 : 0) === 1, `lead ${lead.id} is in ${inSets} sets, state ${state}`)
      }
      const inflight = new Set(places[4])
      for (const h of holdings) if (h.valid) check(inflight.has(h.taken.lead.id), `held ${h.taken.lead.id} not in flight`)
    }),
    { numRuns: 80 },
  )
  t.pass('80 random runs matched the model')
})
