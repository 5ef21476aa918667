import type { Rng } from './rng.js'
import { gammaP, normalCdf } from './special.js'

/**
 * Distributions of durations and delays, described in JSON (scenario files, estimator output), in seconds unless a
 * caller says otherwise. Several spellings are accepted for convenience (lognormal by mean+cv or median+sigma);
 * `resolveDistribution` turns each into one canonical form that `sample`, `cdf` and `mean` understand.
 */
export type DistributionSpec =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  /** Truncated at `min` (default 0) by clamping: durations are never negative. */
  | { kind: 'normal'; mean: number; sd: number; min?: number }
  | { kind: 'lognormal'; mean: number; cv: number }
  | { kind: 'lognormal'; median: number; sigma: number }
  | { kind: 'lognormal'; mu: number; sigma: number }
  | { kind: 'gamma'; shape: number; mean: number }
  | { kind: 'exponential'; mean: number }
  | { kind: 'mixture'; components: { weight: number; dist: DistributionSpec }[] }

export type Distribution =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'normal'; mean: number; sd: number; min: number }
  | { kind: 'lognormal'; mu: number; sigma: number }
  | { kind: 'gamma'; shape: number; scale: number }
  | { kind: 'exponential'; mean: number }
  | { kind: 'mixture'; weights: number[]; components: Distribution[] }

export class DistributionError extends Error {
  override name = 'DistributionError'
}

function num(v: unknown, what: string, path: string, min = Number.NEGATIVE_INFINITY): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DistributionError(`${path}: ${what} must be a finite number`)
  if (v < min) throw new DistributionError(`${path}: ${what} must be >= ${min}, got ${v}`)
  return v
}

/** Validate a JSON value and return the canonical distribution; errors name the path of the bad field. */
export function resolveDistribution(raw: unknown, path = 'distribution'): Distribution {
  if (typeof raw === 'number') return { kind: 'constant', value: num(raw, 'value', path, 0) }
  if (typeof raw !== 'object' || raw === null) throw new DistributionError(`${path}: expected an object with "kind"`)
  const o = raw as Record<string, unknown>
  switch (o.kind) {
    case 'constant':
      return { kind: 'constant', value: num(o.value, 'value', path, 0) }
    case 'uniform': {
      const min = num(o.min, 'min', path)
      const max = num(o.max, 'max', path)
      if (max < min) throw new DistributionError(`${path}: max < min`)
      return { kind: 'uniform', min, max }
    }
    case 'normal':
      return { kind: 'normal', mean: num(o.mean, 'mean', path), sd: num(o.sd, 'sd', path, 0), min: o.min === undefined ? 0 : num(o.min, 'min', path) }
    case 'lognormal': {
      if ('mu' in o) return { kind: 'lognormal', mu: num(o.mu, 'mu', path), sigma: num(o.sigma, 'sigma', path, 0) }
      if ('median' in o) {
        return { kind: 'lognormal', mu: Math.log(num(o.median, 'median', path, 1e-9)), sigma: num(o.sigma, 'sigma', path, 0) }
      }
      const mean = num(o.mean, 'mean', path, 1e-9)
      const cv = num(o.cv, 'cv', path, 0)
      const s2 = Math.log(1 + cv * cv)
      return { kind: 'lognormal', mu: Math.log(mean) - s2 / 2, sigma: Math.sqrt(s2) }
    }
    case 'gamma': {
      const shape = num(o.shape, 'shape', path, 1e-9)
      const mean = 'scale' in o ? shape * num(o.scale, 'scale', path, 0) : num(o.mean, 'mean', path, 0)
      return { kind: 'gamma', shape, scale: mean / shape }
    }
    case 'exponential':
      return { kind: 'exponential', mean: num(o.mean, 'mean', path, 0) }
    case 'mixture': {
      if (!Array.isArray(o.components) || o.components.length === 0) {
        throw new DistributionError(`${path}: mixture needs a non-empty "components" array`)
      }
      const comps = o.components as unknown[]
      const weights = comps.map((c, i) => num((c as Record<string, unknown>)?.weight, 'weight', `${path}.components[${i}]`, 0))
      const total = weights.reduce((a, b) => a + b, 0)
      if (total <= 0) throw new DistributionError(`${path}: mixture weights sum to 0`)
      return {
        kind: 'mixture',
        weights: weights.map((w) => w / total),
        components: comps.map((c, i) => resolveDistribution((c as Record<string, unknown>).dist, `${path}.components[${i}].dist`)),
      }
    }
    default:
      throw new DistributionError(`${path}: unknown kind ${JSON.stringify(o.kind)}`)
  }
}

function sampleGamma(shape: number, rng: Rng): number {
  // Marsaglia-Tsang; shape < 1 boosted by U^(1/shape).
  if (shape < 1) return sampleGamma(shape + 1, rng) * Math.pow(rng.nextOpen(), 1 / shape)
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = rng.normal()
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = rng.nextOpen()
    if (u < 1 - 0.0331 * x * x * x * x) return d * v
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
  }
}

export function sample(d: Distribution, rng: Rng): number {
  switch (d.kind) {
    case 'constant':
      return d.value
    case 'uniform':
      return d.min + (d.max - d.min) * rng.next()
    case 'normal':
      return Math.max(d.min, d.mean + d.sd * rng.normal())
    case 'lognormal':
      return Math.exp(d.mu + d.sigma * rng.normal())
    case 'gamma':
      return d.scale * sampleGamma(d.shape, rng)
    case 'exponential':
      return -d.mean * Math.log(rng.nextOpen())
    case 'mixture': {
      let u = rng.next()
      for (let i = 0; i < d.weights.length; i++) {
        u -= d.weights[i]!
        if (u < 0) return sample(d.components[i]!, rng)
      }
      return sample(d.components[d.components.length - 1]!, rng)
    }
  }
}

/** P(X <= x). */
export function cdf(d: Distribution, x: number): number {
  switch (d.kind) {
    case 'constant':
      return x >= d.value ? 1 : 0
    case 'uniform':
      if (x < d.min) return 0
      if (x >= d.max) return 1
      return (x - d.min) / (d.max - d.min)
    case 'normal':
      if (x < d.min) return 0
      if (d.sd === 0) return x >= d.mean ? 1 : 0
      return normalCdf((x - d.mean) / d.sd)
    case 'lognormal':
      if (x <= 0) return 0
      if (d.sigma === 0) return x >= Math.exp(d.mu) ? 1 : 0
      return normalCdf((Math.log(x) - d.mu) / d.sigma)
    case 'gamma':
      return x <= 0 ? 0 : gammaP(d.shape, x / d.scale)
    case 'exponential':
      return x <= 0 ? 0 : d.mean === 0 ? 1 : 1 - Math.exp(-x / d.mean)
    case 'mixture': {
      let s = 0
      for (let i = 0; i < d.weights.length; i++) s += d.weights[i]! * cdf(d.components[i]!, x)
      return s
    }
  }
}

export function mean(d: Distribution): number {
  switch (d.kind) {
    case 'constant':
      return d.value
    case 'uniform':
      return (d.min + d.max) / 2
    case 'normal':
      return Math.max(d.min, d.mean)
    case 'lognormal':
      return Math.exp(d.mu + (d.sigma * d.sigma) / 2)
    case 'gamma':
      return d.shape * d.scale
    case 'exponential':
      return d.mean
    case 'mixture':
      return d.weights.reduce((s, w, i) => s + w * mean(d.components[i]!), 0)
  }
}

export function variance(d: Distribution): number {
  switch (d.kind) {
    case 'constant':
      return 0
    case 'uniform':
      return (d.max - d.min) ** 2 / 12
    case 'normal':
      return d.sd * d.sd
    case 'lognormal': {
      const s2 = d.sigma * d.sigma
      return (Math.exp(s2) - 1) * Math.exp(2 * d.mu + s2)
    }
    case 'gamma':
      return d.shape * d.scale * d.scale
    case 'exponential':
      return d.mean * d.mean
    case 'mixture': {
      const m = mean(d)
      return d.weights.reduce((s, w, i) => {
        const c = d.components[i]!
        return s + w * (variance(c) + (mean(c) - m) ** 2)
      }, 0)
    }
  }
}

/** Inverse CDF by bisection (used to build quadrature points once per model, not per sample). */
export function quantile(d: Distribution, p: number): number {
  let lo = 0
  let hi = Math.max(1, mean(d) * 4 + 10 * Math.sqrt(variance(d)))
  while (cdf(d, hi) < p && hi < 1e9) hi *= 2
  if (d.kind === 'normal' || d.kind === 'uniform') lo = Math.min(0, d.kind === 'normal' ? d.min : d.min)
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (cdf(d, mid) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
