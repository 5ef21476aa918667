import t from 'tap'
import { cdf, mean, resolveDistribution, sample, variance, DistributionError } from '../../engine/random/distribution.js'
import { rateAt, validateRate, RateError } from '../../engine/random/rate.js'
import { Rng } from '../../engine/random/rng.js'

const N = 40_000

function moments(spec: unknown, seed = 7): { m: number; v: number; xs: number[] } {
  const d = resolveDistribution(spec)
  const rng = new Rng(seed)
  const xs: number[] = []
  for (let i = 0; i < N; i++) xs.push(sample(d, rng))
  const m = xs.reduce((a, b) => a + b, 0) / N
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1)
  return { m, v, xs }
}

t.test('the RNG is deterministic per seed and forks into independent streams', async (t) => {
  const a = new Rng(42)
  const b = new Rng(42)
  const c = new Rng(43)
  const sa = Array.from({ length: 5 }, () => a.next())
  t.same(Array.from({ length: 5 }, () => b.next()), sa)
  t.not(c.next(), sa[0])
  const f1 = new Rng(42).fork('carrier')
  const f2 = new Rng(42).fork('agents')
  t.not(f1.next(), f2.next())
  t.equal(new Rng(42).fork('carrier').next(), new Rng(42).fork('carrier').next())
  const u = new Rng(1)
  let lo = 0
  for (let i = 0; i < N; i++) if (u.next() < 0.25) lo++
  t.ok(Math.abs(lo / N - 0.25) < 0.01, `uniform quarter ${lo / N}`)
})

// Each case: spec, the expected mean and variance; sample moments must fall within 4 standard errors.
const cases: [string, unknown, number, number][] = [
  ['constant', { kind: 'constant', value: 3 }, 3, 0],
  ['uniform', { kind: 'uniform', min: 1.2, max: 2.5 }, 1.85, 1.3 ** 2 / 12],
  ['normal', { kind: 'normal', mean: 20, sd: 2 }, 20, 4],
  ['lognormal mean+cv', { kind: 'lognormal', mean: 120, cv: 1 }, 120, 120 ** 2],
  ['lognormal median+sigma', { kind: 'lognormal', median: 7, sigma: 0.45 }, 7 * Math.exp(0.45 ** 2 / 2), (Math.exp(0.45 ** 2) - 1) * 49 * Math.exp(0.45 ** 2)],
  ['gamma', { kind: 'gamma', shape: 4, mean: 15 }, 15, 15 * 15 / 4],
  ['gamma shape < 1', { kind: 'gamma', shape: 0.5, mean: 2 }, 2, 8],
  ['exponential', { kind: 'exponential', mean: 5 }, 5, 25],
]

for (const [name, spec, m, v] of cases) {
  t.test(`${name}: sample mean and variance, and the analytic ones`, async (t) => {
    const d = resolveDistribution(spec)
    t.ok(Math.abs(mean(d) - m) < 1e-9 * Math.max(1, m), `analytic mean ${mean(d)} vs ${m}`)
    t.ok(Math.abs(variance(d) - v) < 1e-6 * Math.max(1, v), `analytic variance ${variance(d)} vs ${v}`)
    const s = moments(spec)
    const se = Math.sqrt(v / N)
    t.ok(Math.abs(s.m - m) <= 4 * se + 1e-12, `sample mean ${s.m} vs ${m} (se ${se})`)
    if (v > 0) t.ok(Math.abs(s.v / v - 1) < 0.12, `sample variance ${s.v} vs ${v}`)
    // The CDF agrees with the empirical one at the median and the 90th percentile.
    const sorted = [...s.xs].sort((a, b) => a - b)
    for (const q of [0.5, 0.9]) {
      const x = sorted[Math.floor(q * N)]!
      if (v > 0) t.ok(Math.abs(cdf(d, x) - q) < 0.015, `cdf at empirical q${q}: ${cdf(d, x)}`)
    }
  })
}

t.test('a bimodal mixture of ring times has both modes and the mixture mean', async (t) => {
  const spec = {
    kind: 'mixture',
    components: [
      { weight: 3, dist: { kind: 'normal', mean: 8, sd: 1 } },
      { weight: 1, dist: { kind: 'normal', mean: 20, sd: 1 } },
    ],
  }
  const d = resolveDistribution(spec)
  t.equal(mean(d), 11)
  const s = moments(spec)
  t.ok(Math.abs(s.m - 11) < 0.1)
  const mid = s.xs.filter((x) => x > 12 && x < 16).length / N
  const high = s.xs.filter((x) => x > 16).length / N
  t.ok(mid < 0.01, 'almost nothing between the modes')
  t.ok(Math.abs(high - 0.25) < 0.01, `quarter in the second mode: ${high}`)
  t.ok(Math.abs(cdf(d, 14) - 0.75) < 0.001)
})

t.test('bad distributions are refused with the path of the bad field', async (t) => {
  t.throws(() => resolveDistribution({ kind: 'lognormal', mean: 'x', cv: 1 }, 'talk'), { message: /talk: mean/ })
  t.throws(() => resolveDistribution({ kind: 'weibull' }, 'wrap'), DistributionError)
  t.throws(() => resolveDistribution({ kind: 'mixture', components: [] }), /non-empty/)
  t.throws(() => resolveDistribution({ kind: 'uniform', min: 3, max: 1 }), /max < min/)
})

t.test('time-varying rates: piecewise-linear, step, sinusoidal', async (t) => {
  const drift = validateRate({ kind: 'piecewise-linear', points: [[0, 0.25], [28800, 0.15]] })
  t.equal(rateAt(drift, -5), 0.25)
  t.ok(Math.abs(rateAt(drift, 14400) - 0.2) < 1e-12)
  t.equal(rateAt(drift, 40000), 0.15)
  const step = validateRate({ kind: 'step', initial: 0.25, steps: [[7200, 0.1]] })
  t.equal(rateAt(step, 7199), 0.25)
  t.equal(rateAt(step, 7200), 0.1)
  const sine = validateRate({ kind: 'sinusoidal', mean: 0.2, amplitude: 0.05, periodS: 100 })
  t.ok(Math.abs(rateAt(sine, 25) - 0.25) < 1e-12)
  t.ok(Math.abs(rateAt(sine, 75) - 0.15) < 1e-12)
  t.equal(rateAt(0.3, 99), 0.3)
  t.throws(() => validateRate({ kind: 'piecewise-linear', points: [[10, 1], [5, 2]] }), RateError)
  t.throws(() => validateRate({ kind: 'step', initial: 1, steps: [[1]] }), /\[t, value\]/)
})
