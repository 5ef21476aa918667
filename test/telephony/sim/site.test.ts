import t from 'tap'
import { ProgressivePolicy } from '../../../engine/pacing/progressive.js'
import { PredictivePolicy } from '../../../engine/pacing/predictive.js'
import { parseScenario, ScenarioError } from '../../../engine/telephony/sim/scenario.js'
import { simulate } from '../../../engine/telephony/sim/site.js'

const short = parseScenario({ name: 'short', agents: 6, shiftHours: 1 })

t.test('a short simulated shift is deterministic for a seed', async (t) => {
  const a = simulate({ scenario: short, seed: 9, policy: new PredictivePolicy() })
  const b = simulate({ scenario: short, seed: 9, policy: new PredictivePolicy() })
  const c = simulate({ scenario: short, seed: 10, policy: new PredictivePolicy() })
  t.same(a, b)
  t.not(a.dials, 0)
  t.notSame(a, c)
})

t.test('progressive never abandons and predictive keeps agents busier', async (t) => {
  const prog = simulate({ scenario: short, seed: 4, policy: new ProgressivePolicy() })
  t.equal(prog.drops, 0)
  t.ok(prog.peakLines <= short.spec.agents)
  const pred = simulate({ scenario: short, seed: 4, policy: new PredictivePolicy() })
  t.ok(pred.utilization > prog.utilization, `${pred.utilization} > ${prog.utilization}`)
  for (const m of [prog, pred]) {
    t.ok(m.utilization > 0 && m.utilization <= 1)
    t.ok(m.liveConnects <= m.liveAnswers)
    t.equal(m.liveConnects + m.drops, m.liveAnswers)
  }
})

t.test('breaks and multiple days run, and the 30-day rate spans the days', async (t) => {
  const sc = parseScenario({ name: 'b', agents: 4, shiftHours: 0.5, days: 2, agentBehaviour: { breaks: { perHour: 4, duration: { kind: 'constant', value: 120 } } } })
  const m = simulate({ scenario: sc, seed: 1, policy: new PredictivePolicy() })
  t.ok(m.dials > 0)
  t.ok(m.abandon30Days <= m.abandonWorstDay + 1e-12)
})

t.test('scenario errors name the field', async (t) => {
  t.throws(() => parseScenario({ agents: 0 }), ScenarioError)
  t.throws(() => parseScenario({ carrier: { ringTimeoutS: 10 } }), /15 s/)
  t.throws(() => parseScenario({ carrier: { answerRate: 0.8 } }), /sum above 1/)
  t.throws(() => parseScenario({ agentBehaviour: { talk: { kind: 'lognormal' } } }), /agentBehaviour\.talk/)
  t.throws(() => parseScenario('{not json'), /invalid JSON/)
})
