import t from 'tap'
import { DecayedCounts, DurationEstimator, PacingEstimators, defaultEstimatorOptions } from '../../engine/pacing/estimators.js'
import { mean, resolveDistribution, sample } from '../../engine/random/distribution.js'
import { Rng } from '../../engine/random/rng.js'

t.test('decayed counts halve after one half-life', async (t) => {
  const c = new DecayedCounts<'a' | 'b'>(1000)
  c.add(0, 'a', 8)
  c.add(1000, 'b', 0)
  t.ok(Math.abs(c.get('a') - 4) < 1e-9)
  c.add(3000, 'b', 4)
  t.ok(Math.abs(c.get('a') - 1) < 1e-9)
  t.ok(Math.abs(c.share('b') - 0.8) < 1e-9)
})

t.test('the duration estimator recovers a lognormal mean from samples', async (t) => {
  const truth = resolveDistribution({ kind: 'lognormal', mean: 120, cv: 1 })
  const est = new DurationEstimator(3_600_000, { mean: 60, cv: 0.5, weight: 5 })
  const rng = new Rng(3)
  for (let i = 0; i < 5000; i++) est.add(i * 100, sample(truth, rng))
  const m = mean(est.distribution())
  t.ok(Math.abs(m / 120 - 1) < 0.06, `fitted mean ${m}`)
})

t.test('the answer-rate estimate follows a step change within a few half-lives', async (t) => {
  const opts = { ...defaultEstimatorOptions, amdEnabled: false }
  const est = new PacingEstimators(opts)
  const rng = new Rng(11)
  let now = 0
  const feed = (p: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      now += 250
      est.onDialOutcome(now, rng.chance(p) ? 'human' : 'noAnswer', 7)
    }
  }
  feed(0.25, 8000)
  t.ok(Math.abs(est.model().outcomes.human - 0.25) < 0.03, `before: ${est.model().outcomes.human}`)
  feed(0.1, 400) // 100 s after the step: still mostly the old rate
  t.ok(est.model().outcomes.human > 0.15)
  feed(0.1, 8000) // 2000 s more, past three half-lives
  t.ok(Math.abs(est.model().outcomes.human - 0.1) < 0.03, `after: ${est.model().outcomes.human}`)
})

t.test('with AMD on, the model undoes AMD mislabelling to give true shares', async (t) => {
  const est = new PacingEstimators({ ...defaultEstimatorOptions, amdEnabled: true, amdFalsePositive: 0.05 })
  const rng = new Rng(5)
  const pH = 0.25
  const pM = 0.3
  const fn = 0.15
  for (let i = 0; i < 40_000; i++) {
    const at = i * 100
    const u = rng.next()
    if (u < pH) {
      const said = rng.chance(0.05) ? 'machine' : 'human'
      est.onDialOutcome(at, said, 7)
      if (said === 'human') est.onAgentVerdict(at, false)
    } else if (u < pH + pM) {
      const said = rng.chance(fn) ? 'human' : 'machine'
      est.onDialOutcome(at, said, 20)
      if (said === 'human') est.onAgentVerdict(at, true)
    } else est.onDialOutcome(at, 'noAnswer', 25)
  }
  const m = est.model()
  t.ok(Math.abs(m.outcomes.human - pH) < 0.03, `human ${m.outcomes.human}`)
  t.ok(Math.abs(m.outcomes.machine - pM) < 0.03, `machine ${m.outcomes.machine}`)
  t.ok(Math.abs(m.amd.falseNegative - fn) < 0.04, `fn ${m.amd.falseNegative}`)
})

t.test('talk and wrap estimates move towards what agents do', async (t) => {
  const est = new PacingEstimators()
  for (let i = 0; i < 500; i++) {
    est.onTalkEnded(i * 1000, 300)
    est.onWrapEnded(i * 1000, 60)
  }
  t.ok(Math.abs(mean(est.model().talk) / 300 - 1) < 0.1)
  t.ok(Math.abs(mean(est.model().wrap) / 60 - 1) < 0.1)
})
