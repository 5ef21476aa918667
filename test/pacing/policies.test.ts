import fc from 'fast-check'
import t from 'tap'
import type { AgentState } from '../../engine/acd/agent-state.js'
import { AbandonLedger } from '../../engine/pacing/abandon.js'
import { FixedRatioPolicy } from '../../engine/pacing/fixed-ratio.js'
import { buildTables, lookahead, marginalDropChance } from '../../engine/pacing/lookahead.js'
import { callsToPlace, capRoom, defaultCaps, type CallView, type PacingPolicy, type PacingSnapshot } from '../../engine/pacing/policy.js'
import { PredictivePolicy, oraclePolicy } from '../../engine/pacing/predictive.js'
import { PreviewPolicy } from '../../engine/pacing/preview.js'
import { ProgressivePolicy } from '../../engine/pacing/progressive.js'
import { VicidialAdaptPolicy, hhmm } from '../../engine/pacing/vicidial-adapt.js'
import { parseScenario, trueModel } from '../../engine/telephony/sim/scenario.js'

const model = trueModel(parseScenario({ name: 't' }), 0)
const NOW = 1_000_000_000

function snapshot(parts: {
  agents?: [AgentState, number][]
  calls?: CallView[]
  linesInUse?: number
  dialsLastSecond?: number
  caps?: Partial<typeof defaultCaps>
  now?: number
  drops?: { live: number; drops: number }
}): PacingSnapshot {
  const now = parts.now ?? NOW
  const agents = (parts.agents ?? []).map(([state, ago], i) => ({ id: `a${i}`, state, sinceMs: now - ago * 1000 }))
  const calls = parts.calls ?? []
  const busy = agents.filter((a) => a.state === 'on-call' || a.state === 'reserved').length
  const d = parts.drops ?? { live: 0, drops: 0 }
  return {
    now,
    agents,
    calls,
    linesInUse: parts.linesInUse ?? calls.length + busy,
    dialsLastSecond: parts.dialsLastSecond ?? 0,
    model,
    abandon: { day: d, thirtyDays: d, lastHour: d, worstHourRate: 0 },
    abandonCeiling: 0.03,
    hourCeiling: 0.04,
    caps: { ...defaultCaps, ...parts.caps },
  }
}

const ready = (n: number): [AgentState, number][] => Array.from({ length: n }, () => ['ready', 5] as [AgentState, number])
const ringing = (n: number, elapsedS = 2, now = NOW): CallView[] =>
  Array.from({ length: n }, (_, i) => ({ id: `c${i}`, dialedAt: now - elapsedS * 1000, phase: 'ringing' }))

t.test('preview places nothing; progressive one call per ready agent', async (t) => {
  t.equal(callsToPlace(new PreviewPolicy(), snapshot({ agents: ready(5) })), 0)
  const p = new ProgressivePolicy()
  t.equal(callsToPlace(p, snapshot({ agents: ready(5) })), 5)
  t.equal(callsToPlace(p, snapshot({ agents: ready(5), calls: ringing(3) })), 2)
  t.equal(callsToPlace(p, snapshot({ agents: [...ready(2), ['on-call', 30], ['wrap-up', 3]], calls: ringing(3) })), 0)
})

t.test('fixed ratio keeps round(ratio x working agents) lines', async (t) => {
  const p = new FixedRatioPolicy(1.5)
  // 4 ready + 2 talking = 6 agents -> 9 lines; 2 connected + 3 ringing in use -> 4 more.
  t.equal(callsToPlace(p, snapshot({ agents: [...ready(4), ['on-call', 10], ['on-call', 20]], calls: ringing(3) })), 4)
})

t.test('VICIdial adapt raises the level while agents sit ready and cuts it when the day is over the drop cap', async (t) => {
  const p = new VicidialAdaptPolicy({ mode: 'ADAPT_HARD_LIMIT', latestServerTime: 2100 })
  let now = NOW
  for (let i = 0; i < 31; i++) {
    p.decide(snapshot({ agents: ready(10), now }))
    now += 1000
  }
  t.ok(p.level > 1.5, `level rose to ${p.level}`)
  // 60 dials seen today, 10% drops of live answers: HARD_LIMIT resets to 1.
  const calls = Array.from({ length: 60 }, (_, i): CallView => ({ id: `x${i}`, dialedAt: now - 500 + i, phase: 'ringing' }))
  for (let i = 0; i < 61; i++) {
    p.decide(snapshot({ agents: ready(10), calls: i === 0 ? calls : [], now, drops: { live: 100, drops: 10 } }))
    now += 1000
  }
  t.equal(p.level, 1)
  t.equal(hhmm(Date.UTC(2026, 0, 1, 16, 5), 0), 1605)
  t.equal(hhmm(Date.UTC(2026, 0, 1, 16, 5), -300), 1105)
})

t.test('lookahead: the next call is riskier with fewer free agents and with more calls already placed', async (t) => {
  const tb = buildTables(model, NOW)
  const free = lookahead(snapshot({ agents: ready(10) }), tb, false)
  const tight = lookahead(snapshot({ agents: [...ready(1), ...Array.from({ length: 9 }, () => ['on-call', 5] as [AgentState, number])] }), tb, false)
  t.ok(marginalDropChance(free, 0) < 0.01)
  t.ok(marginalDropChance(tight, 0) > marginalDropChance(free, 0))
  let prev = -1
  for (let k = 0; k < 60; k += 5) {
    const p = marginalDropChance(free, k)
    t.ok(p >= prev - 1e-12, `monotone in k (k=${k}: ${p})`)
    prev = p
  }
  t.ok(marginalDropChance(free, 59) > 0.25, `sixty calls for ten agents often drop: ${marginalDropChance(free, 59)}`)
  // Calls already ringing count as demand.
  const busyLines = lookahead(snapshot({ agents: ready(10), calls: ringing(30) }), tb, false)
  t.ok(marginalDropChance(busyLines, 0) > marginalDropChance(free, 0))
})

t.test('predictive places more calls for more ready agents and none without agents', async (t) => {
  const a = new PredictivePolicy().decide(snapshot({ agents: ready(20) }))
  const b = new PredictivePolicy().decide(snapshot({ agents: ready(5) }))
  t.ok(a > b && b > 0, `${a} > ${b} > 0`)
  t.ok(a > 20, 'more calls than agents: most dials are not answered by a person')
  t.equal(new PredictivePolicy().decide(snapshot({ agents: [['paused', 1], ['logged-out', 1]] })), 0)
})

t.test('the governor clamps the threshold once the trailing hour has used its drop budget', async (t) => {
  const p = new PredictivePolicy()
  const calm = p.governor.threshold(snapshot({ agents: ready(10), drops: { live: 200, drops: 0 } }))
  const p2 = new PredictivePolicy()
  const hot = p2.governor.threshold(snapshot({ agents: ready(10), drops: { live: 200, drops: 8 } }))
  t.ok(hot < calm / 5, `${hot} << ${calm}`)
})

// Property: whatever the state, no policy exceeds the line caps or the CPS cap.
const agentState = fc.constantFrom<AgentState>('logged-out', 'ready', 'reserved', 'on-call', 'wrap-up', 'paused')
const snapArb = fc
  .record({
    agents: fc.array(fc.tuple(agentState, fc.integer({ min: 0, max: 900 })), { maxLength: 40 }),
    calls: fc.array(
      fc.record({ phase: fc.constantFrom<'ringing' | 'amd' | 'waiting'>('ringing', 'amd', 'waiting'), age: fc.integer({ min: 0, max: 30 }) }),
      { maxLength: 60 },
    ),
    extraLines: fc.integer({ min: 0, max: 20 }),
    dialsLastSecond: fc.integer({ min: 0, max: 20 }),
    caps: fc.record({
      linesPerAgent: fc.double({ min: 0, max: 4, noNaN: true }),
      campaignLines: fc.integer({ min: 0, max: 200 }),
      trunkChannels: fc.integer({ min: 0, max: 200 }),
      trunkCps: fc.integer({ min: 0, max: 30 }),
    }),
    drops: fc.integer({ min: 0, max: 30 }),
  })
  .map((r) => {
    const calls: CallView[] = r.calls.map((c, i) => ({
      id: `c${i}`,
      dialedAt: NOW - c.age * 1000,
      phase: c.phase,
      ...(c.phase === 'ringing' ? {} : { answeredAt: NOW - Math.min(c.age, 2) * 1000 }),
    }))
    const s = snapshot({ agents: r.agents, calls, dialsLastSecond: r.dialsLastSecond, caps: r.caps, drops: { live: 300, drops: r.drops } })
    s.linesInUse += r.extraLines
    return s
  })

const policies: [string, () => PacingPolicy][] = [
  ['preview', () => new PreviewPolicy()],
  ['progressive', () => new ProgressivePolicy()],
  ['fixed ratio 3', () => new FixedRatioPolicy(3)],
  ['vicidial', () => new VicidialAdaptPolicy({ maximumLevel: 5 })],
  ['predictive', () => new PredictivePolicy()],
  ['oracle', () => oraclePolicy()],
]

for (const [name, make] of policies) {
  t.test(`${name} never exceeds a line cap or the CPS cap`, async (t) => {
    const policy = make()
    fc.assert(
      fc.property(snapArb, (s) => {
        const n = callsToPlace(policy, s)
        const active = s.agents.filter((a) => a.state !== 'logged-out' && a.state !== 'paused').length
        const lineCap = Math.min(Math.floor(s.caps.linesPerAgent * active), s.caps.campaignLines, s.caps.trunkChannels)
        return (
          Number.isInteger(n) &&
          n >= 0 &&
          n <= capRoom(s) &&
          (n === 0 || s.linesInUse + n <= lineCap) &&
          (n === 0 || s.dialsLastSecond + n <= s.caps.trunkCps)
        )
      }),
      { numRuns: 300, seed: 20261123 },
    )
    t.pass('property held')
  })
}

t.test('a shorter serve window makes calls riskier, so predictive places no more of them', async (t) => {
  // Agents in wrap-up free up over the next seconds: a window that waits less for them counts on fewer of them.
  const agents: [AgentState, number][] = [...ready(2), ...Array.from({ length: 8 }, () => ['wrap-up', 12] as [AgentState, number])]
  const wide = new PredictivePolicy({ serveWindowS: 2 }).decide(snapshot({ agents }))
  const narrow = new PredictivePolicy({ serveWindowS: 0.5 }).decide(snapshot({ agents }))
  t.ok(narrow <= wide, `${narrow} <= ${wide}`)
  const m = { ...model, dropAfterS: 2 }
  const tb = buildTables(m, NOW)
  const s2 = snapshot({ agents })
  const riskWide = marginalDropChance(lookahead({ ...s2, model: m }, tb, false), 3)
  const m05 = { ...model, dropAfterS: 0.5 }
  const riskNarrow = marginalDropChance(lookahead({ ...s2, model: m05 }, buildTables(m05, NOW), false), 3)
  t.ok(riskNarrow > riskWide, `risk ${riskNarrow} > ${riskWide}`)
})

t.test('without the knock-on term a call is never riskier, so predictive places at least as many calls', async (t) => {
  const tb = buildTables(model, NOW)
  const states: AgentState[] = ['ready', 'on-call', 'wrap-up', 'reserved']
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...states), fc.integer({ min: 0, max: 400 })), { minLength: 1, maxLength: 20 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 24 }), fc.constantFrom('ringing', 'amd', 'waiting') as fc.Arbitrary<CallView['phase']>), { maxLength: 40 }),
      fc.integer({ min: 0, max: 30 }),
      (agents, inFlight, k) => {
        const calls: CallView[] = inFlight.map(([ago, phase], i) => ({
          id: `c${i}`,
          dialedAt: NOW - (ago + 3) * 1000,
          phase,
          ...(phase === 'ringing' ? {} : { answeredAt: NOW - 1000 }),
        }))
        const s = snapshot({ agents, calls })
        const la = lookahead(s, tb, false)
        if (marginalDropChance(la, k, false) > marginalDropChance(la, k, true) + 1e-12) return false
        const plain = new PredictivePolicy({ knockOn: false }).decide(s)
        const knock = new PredictivePolicy({ knockOn: true }).decide(s)
        return plain >= knock
      },
    ),
    { numRuns: 60 },
  )
  const tight = snapshot({ agents: [...ready(2), ...Array.from({ length: 8 }, () => ['on-call', 30] as [AgentState, number])], calls: ringing(6, 4) })
  const la = lookahead(tight, tb, false)
  t.ok(marginalDropChance(la, 3, false) < marginalDropChance(la, 3, true), 'with calls in flight the knock-on term adds risk')
  t.equal(new PredictivePolicy().options.knockOn, false, 'the default leaves it out')
})
