import { mean as distMean, resolveDistribution, type Distribution, type DistributionSpec } from '../../random/distribution.js'
import { rateAt, validateRate, type RateSpec } from '../../random/rate.js'
import type { PacingModel } from '../../pacing/model.js'
import { defaultCaps, type PacingCaps } from '../../pacing/policy.js'

/**
 * A simulated site described in JSON: carrier (dial outcomes, ring times, a live answer rate that moves over the
 * day), AMD, customers (patience while waiting for an agent), agents (talk, wrap-up, breaks), abandon rules and line
 * caps. A scenario file gives only what differs from `defaultScenario` (pacing-anchors §4.1); objects with a "kind"
 * (distributions, rates) are replaced whole, other objects are merged key by key. Durations are in seconds, times of
 * day in seconds since the start of the shift.
 */
export interface ScenarioSpec {
  name: string
  description?: string
  agents: number
  shiftHours: number
  /** Consecutive shifts (one per day), for the 30-day window. */
  days: number
  /** Shift start, local hour of day (the campaign's day boundary is local midnight). */
  startHour: number
  utcOffsetMinutes: number
  decisionIntervalS: number
  /** Also ask the policy the moment an agent frees up (as the live loop does), not only on the interval. */
  decideOnAgentFree: boolean
  carrier: {
    /** Live-person answer rate of a dial placed at t (seconds into the shift). */
    answerRate: RateSpec
    machineRate: RateSpec
    busyRate: number
    invalidRate: number
    ringTime: { human: DistributionSpec; machine: DistributionSpec }
    busyAfterS: DistributionSpec
    invalidAfterS: DistributionSpec
    ringTimeoutS: number
  }
  amd: {
    enabled: boolean
    humanDelay: DistributionSpec
    machineDelay: DistributionSpec
    falsePositive: number
    falseNegative: number
  }
  customers: {
    /** How long a person waits for an agent after saying hello before hanging up. */
    patience: DistributionSpec
  }
  agentBehaviour: {
    talk: DistributionSpec
    wrap: DistributionSpec
    amHandling: DistributionSpec
    /** Breaks arrive as a Poisson process per agent; null for none. */
    breaks: { perHour: number; duration: DistributionSpec } | null
  }
  /** Delay from the decision to route to the agent's leg being bridged. */
  routingLatency: DistributionSpec
  abandon: { dropAfterS: number; ceiling: number; hourCeiling: number; ofcomMode: boolean }
  caps: PacingCaps
  /** Knobs of the bench's baselines for this scenario. */
  bench: { fixedRatio?: number }
}

export const defaultScenario: ScenarioSpec = {
  name: 'default',
  description: 'pacing-anchors §4.1 defaults: 20 agents, answer rate 25% -> 15% over 8 h, AMD on',
  agents: 20,
  shiftHours: 8,
  days: 1,
  startHour: 9,
  utcOffsetMinutes: 0,
  decisionIntervalS: 1,
  decideOnAgentFree: false,
  carrier: {
    answerRate: { kind: 'piecewise-linear', points: [[0, 0.25], [28_800, 0.15]] },
    machineRate: 0.3,
    busyRate: 0.05,
    invalidRate: 0.03,
    ringTime: {
      human: { kind: 'lognormal', median: 7, sigma: 0.45 },
      machine: { kind: 'normal', mean: 20, sd: 2 },
    },
    busyAfterS: { kind: 'constant', value: 3 },
    invalidAfterS: { kind: 'constant', value: 2 },
    ringTimeoutS: 25,
  },
  amd: {
    enabled: true,
    humanDelay: { kind: 'uniform', min: 1.2, max: 2.5 },
    machineDelay: { kind: 'uniform', min: 2, max: 4 },
    falsePositive: 0.03,
    falseNegative: 0.15,
  },
  customers: { patience: { kind: 'exponential', mean: 5 } },
  agentBehaviour: {
    talk: { kind: 'lognormal', mean: 120, cv: 1 },
    wrap: { kind: 'gamma', shape: 4, mean: 15 },
    amHandling: { kind: 'constant', value: 8 },
    breaks: null,
  },
  routingLatency: {
    kind: 'mixture',
    components: [
      { weight: 0.97, dist: { kind: 'constant', value: 0.1 } },
      { weight: 0.03, dist: { kind: 'constant', value: 1.5 } },
    ],
  },
  abandon: { dropAfterS: 2, ceiling: 0.03, hourCeiling: 0.04, ofcomMode: false },
  caps: { ...defaultCaps, linesPerAgent: 3 },
  bench: {},
}

export class ScenarioError extends Error {
  override name = 'ScenarioError'
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (!isPlainObject(base) || !isPlainObject(over) || 'kind' in over) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v)
  return out
}

/** The resolved scenario: distributions made canonical, ready for sampling. */
export interface Scenario {
  spec: ScenarioSpec
  ring: { human: Distribution; machine: Distribution; busy: Distribution; invalid: Distribution }
  amdHumanDelay: Distribution
  amdMachineDelay: Distribution
  patience: Distribution
  talk: Distribution
  wrap: Distribution
  amHandling: Distribution
  breakDuration: Distribution | undefined
  routingLatency: Distribution
}

/** Parse a scenario from JSON (a string or a parsed value) over the defaults; errors name the bad field. */
export function parseScenario(input: unknown): Scenario {
  let raw = input
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input)
    } catch (e) {
      throw new ScenarioError(`scenario: invalid JSON: ${(e as Error).message}`)
    }
  }
  if (!isPlainObject(raw)) throw new ScenarioError('scenario: expected a JSON object')
  const spec = merge(defaultScenario, raw) as ScenarioSpec
  const posInt = (v: unknown, path: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ScenarioError(`scenario.${path}: expected a positive integer`)
  }
  const prob = (v: unknown, path: string): void => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ScenarioError(`scenario.${path}: expected a probability in [0, 1]`)
  }
  const pos = (v: unknown, path: string): void => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ScenarioError(`scenario.${path}: expected a positive number`)
  }
  if (typeof spec.name !== 'string') throw new ScenarioError('scenario.name: expected a string')
  posInt(spec.agents, 'agents')
  posInt(spec.days, 'days')
  pos(spec.shiftHours, 'shiftHours')
  pos(spec.decisionIntervalS, 'decisionIntervalS')
  pos(spec.carrier.ringTimeoutS, 'carrier.ringTimeoutS')
  if (spec.carrier.ringTimeoutS < 15) throw new ScenarioError('scenario.carrier.ringTimeoutS: FCC/Ofcom require at least 15 s of ringing')
  spec.carrier.answerRate = validateRate(spec.carrier.answerRate, 'scenario.carrier.answerRate')
  spec.carrier.machineRate = validateRate(spec.carrier.machineRate, 'scenario.carrier.machineRate')
  prob(spec.carrier.busyRate, 'carrier.busyRate')
  prob(spec.carrier.invalidRate, 'carrier.invalidRate')
  prob(spec.amd.falsePositive, 'amd.falsePositive')
  prob(spec.amd.falseNegative, 'amd.falseNegative')
  prob(spec.abandon.ceiling, 'abandon.ceiling')
  prob(spec.abandon.hourCeiling, 'abandon.hourCeiling')
  pos(spec.abandon.dropAfterS, 'abandon.dropAfterS')
  for (const k of ['linesPerAgent', 'campaignLines', 'trunkChannels', 'trunkCps'] as const) pos(spec.caps[k], `caps.${k}`)
  const shiftS = spec.shiftHours * 3600
  for (let t = 0; t <= shiftS; t += 600) {
    const total = outcomeMixAt(spec, t)
    if (total.noAnswer < -1e-9) throw new ScenarioError(`scenario.carrier: outcome rates sum above 1 at t=${t}s`)
  }
  const d = (v: DistributionSpec, path: string): Distribution => {
    try {
      return resolveDistribution(v, `scenario.${path}`)
    } catch (e) {
      throw new ScenarioError((e as Error).message)
    }
  }
  const b = spec.agentBehaviour.breaks
  if (b !== null) pos(b.perHour, 'agentBehaviour.breaks.perHour')
  return {
    spec,
    ring: {
      human: d(spec.carrier.ringTime.human, 'carrier.ringTime.human'),
      machine: d(spec.carrier.ringTime.machine, 'carrier.ringTime.machine'),
      busy: d(spec.carrier.busyAfterS, 'carrier.busyAfterS'),
      invalid: d(spec.carrier.invalidAfterS, 'carrier.invalidAfterS'),
    },
    amdHumanDelay: d(spec.amd.humanDelay, 'amd.humanDelay'),
    amdMachineDelay: d(spec.amd.machineDelay, 'amd.machineDelay'),
    patience: d(spec.customers.patience, 'customers.patience'),
    talk: d(spec.agentBehaviour.talk, 'agentBehaviour.talk'),
    wrap: d(spec.agentBehaviour.wrap, 'agentBehaviour.wrap'),
    amHandling: d(spec.agentBehaviour.amHandling, 'agentBehaviour.amHandling'),
    breakDuration: b === null ? undefined : d(b.duration, 'agentBehaviour.breaks.duration'),
    routingLatency: d(spec.routingLatency, 'routingLatency'),
  }
}

/** The true outcome mix of a dial placed `tS` seconds into the shift. */
export function outcomeMixAt(spec: ScenarioSpec, tS: number): PacingModel['outcomes'] {
  const human = Math.max(0, rateAt(spec.carrier.answerRate, tS))
  const machine = Math.max(0, rateAt(spec.carrier.machineRate, tS))
  const { busyRate: busy, invalidRate: invalid } = spec.carrier
  return { human, machine, busy, invalid, noAnswer: 1 - human - machine - busy - invalid }
}

/** The true pacing model at `tS` seconds into the shift (what the oracle is given). */
export function trueModel(sc: Scenario, tS: number): PacingModel {
  const s = sc.spec
  return {
    outcomes: outcomeMixAt(s, tS),
    ringTime: { human: sc.ring.human, machine: sc.ring.machine },
    failTimeS: { busy: distMean(sc.ring.busy), invalid: distMean(sc.ring.invalid) },
    ringTimeoutS: s.carrier.ringTimeoutS,
    talk: sc.talk,
    wrap: sc.wrap,
    amHandling: sc.amHandling,
    amd: {
      enabled: s.amd.enabled,
      humanDelay: sc.amdHumanDelay,
      machineDelay: sc.amdMachineDelay,
      falsePositive: s.amd.falsePositive,
      falseNegative: s.amd.falseNegative,
    },
    dropAfterS: s.abandon.dropAfterS,
  }
}
