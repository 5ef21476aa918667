/**
 * Rates that change over a shift (the live answer rate of a list, a break rate), described in JSON. Time is seconds
 * since the start of the shift.
 */
export type RateSpec =
  | number
  | { kind: 'constant'; value: number }
  /** Linear between points [[t, value], ...], flat before the first and after the last. */
  | { kind: 'piecewise-linear'; points: [number, number][] }
  /** `values[i]` from `at[i]` on (at[0] is usually 0); `initial` before the first step. */
  | { kind: 'step'; initial: number; steps: [number, number][] }
  | { kind: 'sinusoidal'; mean: number; amplitude: number; periodS: number; phaseS?: number }

export class RateError extends Error {
  override name = 'RateError'
}

export function validateRate(raw: unknown, path = 'rate'): RateSpec {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw
  if (typeof raw !== 'object' || raw === null) throw new RateError(`${path}: expected a number or an object with "kind"`)
  const o = raw as Record<string, unknown>
  const pairs = (v: unknown, name: string): [number, number][] => {
    if (!Array.isArray(v) || v.length === 0) throw new RateError(`${path}.${name}: expected a non-empty array of [t, value]`)
    return v.map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new RateError(`${path}.${name}[${i}]: expected [t, value]`)
      }
      return [p[0] as number, p[1] as number]
    })
  }
  switch (o.kind) {
    case 'constant':
      if (typeof o.value !== 'number') throw new RateError(`${path}.value must be a number`)
      return { kind: 'constant', value: o.value }
    case 'piecewise-linear': {
      const points = pairs(o.points, 'points')
      for (let i = 1; i < points.length; i++) {
        if (points[i]![0] < points[i - 1]![0]) throw new RateError(`${path}.points must be sorted by time`)
      }
      return { kind: 'piecewise-linear', points }
    }
    case 'step':
      if (typeof o.initial !== 'number') throw new RateError(`${path}.initial must be a number`)
      return { kind: 'step', initial: o.initial, steps: pairs(o.steps, 'steps').sort((a, b) => a[0] - b[0]) }
    case 'sinusoidal':
      for (const k of ['mean', 'amplitude', 'periodS']) {
        if (typeof o[k] !== 'number') throw new RateError(`${path}.${k} must be a number`)
      }
      if ((o.periodS as number) <= 0) throw new RateError(`${path}.periodS must be > 0`)
      return {
        kind: 'sinusoidal',
        mean: o.mean as number,
        amplitude: o.amplitude as number,
        periodS: o.periodS as number,
        phaseS: typeof o.phaseS === 'number' ? o.phaseS : 0,
      }
    default:
      throw new RateError(`${path}: unknown kind ${JSON.stringify(o.kind)}`)
  }
}

/** The rate at `tS` seconds into the shift. */
export function rateAt(spec: RateSpec, tS: number): number {
  if (typeof spec === 'number') return spec
  switch (spec.kind) {
    case 'constant':
      return spec.value
    case 'piecewise-linear': {
      const p = spec.points
      if (tS <= p[0]![0]) return p[0]![1]
      for (let i = 1; i < p.length; i++) {
        const [t1, v1] = p[i]!
        if (tS <= t1) {
          const [t0, v0] = p[i - 1]!
          return t1 === t0 ? v1 : v0 + ((v1 - v0) * (tS - t0)) / (t1 - t0)
        }
      }
      return p[p.length - 1]![1]
    }
    case 'step': {
      let v = spec.initial
      for (const [t, value] of spec.steps) if (tS >= t) v = value
      return v
    }
    case 'sinusoidal':
      return spec.mean + spec.amplitude * Math.sin((2 * Math.PI * (tS - (spec.phaseS ?? 0))) / spec.periodS)
  }
}
