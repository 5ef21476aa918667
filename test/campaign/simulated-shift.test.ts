/**
 * The engine end to end on the simulated site: the real campaign loop, Redis hopper and ACD, DNC store, CDRs in a
 * real PostgreSQL, SimTelephony and simulated agents at their desks, under a virtual clock. It checks the
 * invariants of shared/ARCHITECTURE.md over a simulated hour of predictive dialing: one CDR per call, never a DNC
 * number or a lead outside its calling hours, never two calls on one lead or one agent at once, never over the
 * line cap, nothing left in flight afterwards.
 */
import t from 'tap'
import pino from 'pino'
import { Registry } from 'prom-client'
import { VirtualClock } from '../../engine/clock.js'
import { createEngineMetrics } from '../../engine/campaign/metrics.js'
import { createSimulatedEngine } from '../../engine/campaign/simulated-engine.js'
import { RedisHopper } from '../../engine/store/redis/redis-hopper.js'
import type { CampaignSettings } from '../../engine/store/sql/campaigns.js'
import { parseScenario } from '../../engine/telephony/sim/scenario.js'
import type { OriginateRequest } from '../../engine/telephony/port.js'
import { engineTestEnv } from './fixtures/engine-env.js'

const AGENTS = 8
const LINES_PER_AGENT = 3
/** Tuesday 2026-11-24 10:00 in Shanghai. */
const START = Date.parse('2026-11-24T02:00:00Z')
const HOUR = 3_600_000

function settings(): CampaignSettings {
  return {
    dialMode: 'predictive',
    pacing: {
      abandonCeiling: 0.03,
      abandonWindows: ['day', 'rolling-30d'],
      abandonDenominator: 'live-answers',
      maxLinesPerAgent: LINES_PER_AGENT,
      safeHarborSeconds: 2,
      amd: true,
    },
    screening: {
      callingHours: { start: '09:00', end: '21:00', weekdays: [1, 2, 3, 4, 5, 6, 7] },
      minRecallGapMinutes: 30,
      abandonLockoutHours: 72,
    },
    caps: { maxAttemptsTotal: 3, maxAttemptsPer24h: 2, maxAttemptsPer7d: 3, maxLines: 1000, callsPerSecond: 20 },
  }
}

/** Local hour of an instant in a zone, computed independently of the screening code. */
function localHour(at: number, zone: string): number {
  const h = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(at))
  return Number(h)
}

t.test('a simulated hour of predictive dialing keeps every invariant', async (t) => {
  const env = await engineTestEnv('shift')
  t.teardown(() => env.dispose())
  const { repos, redis, db } = env
  const clock = new VirtualClock(START)
  const logger = pino({ level: process.env.SHIFT_LOG ?? 'silent' })

  const campaign = await repos.campaigns.create({ name: 'sim shift', settings: settings(), id: 'camp-shift' })
  const agentIds = Array.from({ length: AGENTS }, (_, i) => `agent-${i + 1}`)
  for (const id of agentIds) await repos.agents.create({ id, name: `Agent ${id}` })

  // 1,500 mainland mobiles in Shanghai time; every 10th on the DNC list (whole number), a block of numbers under a
  // DNC prefix; 100 leads in New York (22:00 there: outside hours all hour); 50 malformed numbers.
  const leads: Array<{ phone: string; timezone?: string; region?: string }> = []
  const dncNumbers: string[] = []
  for (let i = 0; i < 1500; i++) {
    const e164 = `+86139${String(10_000_000 + i).padStart(8, '0')}`
    leads.push({ phone: e164, timezone: 'Asia/Shanghai' })
    if (i % 10 === 0) dncNumbers.push(e164)
  }
  for (let i = 0; i < 40; i++) leads.push({ phone: `+86137777000${String(i).padStart(2, '0')}`, timezone: 'Asia/Shanghai' })
  for (let i = 0; i < 100; i++) leads.push({ phone: `+1212555${String(1000 + i)}`, timezone: 'America/New_York' })
  for (let i = 0; i < 50; i++) leads.push({ phone: `12-${i}`, region: 'CN' })
  const inserted = await repos.leads.insertMany(campaign.id, leads)
  t.equal(inserted.insertedIds.length, leads.length, 'every lead stored')

  const originated: Array<OriginateRequest & { at: number }> = []
  let maxLines = 0
  const { runtime, desk, acd, dnc } = createSimulatedEngine({
    clock,
    redis,
    keys: env.keys,
    repos,
    metrics: createEngineMetrics(new Registry()),
    logger,
    scenario: parseScenario({ agents: AGENTS }),
    seed: 7,
    instanceId: 'test-engine',
    shiftStartMs: START,
    overrides: { trunk: { channels: 1000, cps: 50 } },
    wrapPort: (sim) => {
      // Record every call placed, as the carrier would see it.
      const realOriginate = sim.originate.bind(sim)
      sim.originate = async (req) => {
        originated.push({ ...req, at: clock.now() })
        return realOriginate(req)
      }
      return sim
    },
  })
  await dnc.addNumbers({}, dncNumbers)
  await dnc.addPrefixes({ campaignId: campaign.id }, ['+861377770'])

  const runUntil = (until: number): Promise<void> =>
    env.run(clock, until, async () => {
      const finished = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM cdrs')
      maxLines = Math.max(maxLines, originated.length - Number(finished.rows[0]!.n))
    })

  await desk.loginAll(agentIds)
  await runtime.start(campaign.id)
  await runUntil(START + HOUR)
  await runtime.stop(campaign.id)
  // Let every call in flight finish and every agent wrap up.
  await runUntil(START + HOUR + 30 * 60_000)
  desk.stop()

  t.comment(JSON.stringify(Object.entries((await repos.cdrs.countByOutcome(campaign.id, { from: 0, to: START + 10 * HOUR })))))
  t.ok(originated.length > 100, `the engine dialed (${originated.length} calls)`)

  // One CDR per call, no CDR without a call.
  const cdrs = await repos.cdrs.listByCampaign(campaign.id, { from: 0, to: START + 10 * HOUR, limit: 100_000 })
  const cdrIds = new Set(cdrs.map((c) => c.callId))
  t.equal(cdrs.length, cdrIds.size, 'no call has two CDRs')
  t.equal(cdrs.length, originated.length, 'every originated call has its CDR')
  t.ok(originated.every((o) => cdrIds.has(o.callId)), 'the CDRs are those of the originated calls')

  // Compliance: never a DNC number, a malformed one, or a number outside its local hours.
  const dncSet = new Set(dncNumbers)
  t.notOk(originated.some((o) => dncSet.has(o.number)), 'no DNC number dialed')
  t.notOk(originated.some((o) => o.number.startsWith('+861377770')), 'no number under a DNC prefix dialed')
  t.notOk(originated.some((o) => o.number.startsWith('+1')), 'no New York lead dialed at 21:00-22:00 their time')
  t.ok(
    originated.every((o) => {
      const h = localHour(o.at, 'Asia/Shanghai')
      return h >= 9 && h < 21
    }),
    'every call inside 09:00-21:00 local',
  )
  t.ok(originated.every((o) => o.ringTimeoutMs >= 15_000), 'every call rings at least 15 s')

  // One call at a time per lead and per agent.
  const byLead = new Map<string, Array<[number, number]>>()
  const byAgent = new Map<string, Array<[number, number]>>()
  for (const c of cdrs) {
    const l = byLead.get(c.leadId) ?? []
    l.push([c.dialedAt, c.endedAt])
    byLead.set(c.leadId, l)
    if (c.agentId && c.bridgedAt !== undefined) {
      const a = byAgent.get(c.agentId) ?? []
      a.push([c.bridgedAt, c.endedAt])
      byAgent.set(c.agentId, a)
    }
  }
  const overlaps = (spans: Array<[number, number]>): boolean => {
    const s = [...spans].sort((a, b) => a[0] - b[0])
    return s.some((x, i) => i > 0 && x[0] < s[i - 1]![1])
  }
  t.notOk([...byLead.values()].some(overlaps), 'no lead had two calls at once')
  t.notOk([...byAgent.values()].some(overlaps), 'no agent had two calls at once')
  t.ok(byAgent.size > 0, 'agents talked to customers')
  const gapOk = [...byLead.values()].every((spans) => {
    const s = [...spans].sort((a, b) => a[0] - b[0])
    return s.every((x, i) => i === 0 || x[0] - s[i - 1]![1] >= 30 * 60_000)
  })
  t.ok(gapOk, 'the minimum re-call gap held between attempts on a lead')

  t.ok(maxLines <= AGENTS * LINES_PER_AGENT, `lines in flight stayed within the cap (max ${maxLines})`)

  // Nothing left behind: no lead in flight, no agent reserved or on a call.
  const hopper = new RedisHopper({ redis, campaignId: campaign.id, source: repos.leads, numbers: repos.leads.numbers, keys: env.keys })
  t.equal((await hopper.counts()).inflight, 0, 'no lead left in flight')
  for (const id of agentIds) {
    const a = await acd.get(id)
    t.ok(a && (a.state === 'ready' || a.state === 'paused'), `${id} is free after the shift (${a?.state})`)
  }

  const outcomes = new Set(cdrs.map((c) => c.outcome))
  t.ok(outcomes.has('connected'), 'some calls connected')
  t.ok(outcomes.has('machine') || outcomes.has('no-answer'), 'the carrier produced failures too')
})
