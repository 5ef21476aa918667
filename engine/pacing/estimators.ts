import type { Distribution } from '../random/distribution.js'
import type { DialOutcomeMix, PacingModel } from './model.js'

/**
 * Estimators fed by call events; `model(now)` turns what they have seen into a PacingModel. Everything decays with
 * time (a half-life, not a fixed window) so the answer rate follows a list that drifts or steps, and early in a shift
 * the priors (pseudo-observations) keep the model sane until data arrives. Times are epoch ms, durations seconds.
 */

/** Counts per category with exponential time decay. */
export class DecayedCounts<K extends string> {
  private readonly counts = new Map<K, number>()
  private lastAt: number | undefined

  constructor(
    private readonly halfLifeMs: number,
    prior: Partial<Record<K, number>> = {},
  ) {
    for (const [k, v] of Object.entries(prior) as [K, number][]) this.counts.set(k, v)
  }

  private decayTo(at: number): void {
    if (this.lastAt !== undefined && at > this.lastAt) {
      const f = Math.pow(0.5, (at - this.lastAt) / this.halfLifeMs)
      for (const [k, v] of this.counts) this.counts.set(k, v * f)
    }
    if (this.lastAt === undefined || at > this.lastAt) this.lastAt = at
  }

  add(at: number, key: K, weight = 1): void {
    this.decayTo(at)
    this.counts.set(key, (this.counts.get(key) ?? 0) + weight)
  }

  get(key: K): number {
    return this.counts.get(key) ?? 0
  }

  total(): number {
    let s = 0
    for (const v of this.counts.values()) s += v
    return s
  }

  share(key: K): number {
    const t = this.total()
    return t > 0 ? this.get(key) / t : 0
  }
}

/**
 * Fits a lognormal to durations by decayed moments of log(x). Talk, wrap and ring times are all right-skewed and
 * positive; the lognormal is the standard call-centre fit and needs only two sums.
 */
export class DurationEstimator {
  private w: number
  private s1: number
  private s2: number
  private lastAt: number | undefined

  constructor(
    private readonly halfLifeMs: number,
    prior: { mean: number; cv: number; weight: number },
  ) {
    const s2 = Math.log(1 + prior.cv * prior.cv)
    const mu = Math.log(prior.mean) - s2 / 2
    this.w = prior.weight
    this.s1 = mu * prior.weight
    this.s2 = (s2 + mu * mu) * prior.weight
  }

  add(at: number, seconds: number): void {
    if (!(seconds > 0) || !Number.isFinite(seconds)) return
    if (this.lastAt !== undefined && at > this.lastAt) {
      const f = Math.pow(0.5, (at - this.lastAt) / this.halfLifeMs)
      this.w *= f
      this.s1 *= f
      this.s2 *= f
    }
    if (this.lastAt === undefined || at > this.lastAt) this.lastAt = at
    const l = Math.log(seconds)
    this.w += 1
    this.s1 += l
    this.s2 += l * l
  }

  distribution(): Distribution {
    const mu = this.s1 / this.w
    const varLog = Math.max(1e-6, this.s2 / this.w - mu * mu)
    return { kind: 'lognormal', mu, sigma: Math.sqrt(varLog) }
  }

  count(): number {
    return this.w
  }
}

/** Beta-like decayed proportion with a prior. */
export class ProportionEstimator {
  private readonly counts: DecayedCounts<'yes' | 'no'>
  constructor(halfLifeMs: number, prior: { p: number; weight: number }) {
    this.counts = new DecayedCounts(halfLifeMs, { yes: prior.p * prior.weight, no: (1 - prior.p) * prior.weight })
  }
  add(at: number, yes: boolean): void {
    this.counts.add(at, yes ? 'yes' : 'no')
  }
  value(): number {
    return this.counts.share('yes')
  }
}

export type DialOutcome = keyof DialOutcomeMix

export interface EstimatorOptions {
  /** Half-life of the answer-rate counts: short enough to follow a list change, long enough to be stable. */
  outcomeHalfLifeMs: number
  durationHalfLifeMs: number
  ringTimeoutS: number
  dropAfterS: number
  amdEnabled: boolean
  /** AMD false positives cannot be observed from the dialer (a person hung up on looks like a machine): configured. */
  amdFalsePositive: number
  prior: {
    outcomes: DialOutcomeMix
    talkMeanS: number
    wrapMeanS: number
  }
}

export const defaultEstimatorOptions: EstimatorOptions = {
  outcomeHalfLifeMs: 10 * 60_000,
  durationHalfLifeMs: 60 * 60_000,
  ringTimeoutS: 25,
  dropAfterS: 2,
  amdEnabled: true,
  amdFalsePositive: 0.03,
  prior: {
    outcomes: { human: 0.25, machine: 0.3, busy: 0.05, invalid: 0.03, noAnswer: 0.37 },
    talkMeanS: 120,
    wrapMeanS: 15,
  },
}

/** All the estimators a campaign's pacing reads, fed by the campaign loop's call events. */
export class PacingEstimators {
  private readonly outcomes: DecayedCounts<DialOutcome>
  private readonly ringHuman: DurationEstimator
  private readonly ringMachine: DurationEstimator
  private readonly failBusy: DurationEstimator
  private readonly failInvalid: DurationEstimator
  private readonly talk: DurationEstimator
  private readonly wrap: DurationEstimator
  private readonly amHandling: DurationEstimator
  private readonly amdHumanDelay: DurationEstimator
  private readonly amdMachineDelay: DurationEstimator
  private readonly amdFalseNegative: ProportionEstimator

  constructor(readonly options: EstimatorOptions = defaultEstimatorOptions) {
    const o = options
    const w = 20
    this.outcomes = new DecayedCounts(o.outcomeHalfLifeMs, scale(o.prior.outcomes, w))
    this.ringHuman = new DurationEstimator(o.durationHalfLifeMs, { mean: 8, cv: 0.5, weight: w })
    this.ringMachine = new DurationEstimator(o.durationHalfLifeMs, { mean: 18, cv: 0.2, weight: w })
    this.failBusy = new DurationEstimator(o.durationHalfLifeMs, { mean: 3, cv: 0.2, weight: w })
    this.failInvalid = new DurationEstimator(o.durationHalfLifeMs, { mean: 2, cv: 0.2, weight: w })
    this.talk = new DurationEstimator(o.durationHalfLifeMs, { mean: o.prior.talkMeanS, cv: 1, weight: w })
    this.wrap = new DurationEstimator(o.durationHalfLifeMs, { mean: o.prior.wrapMeanS, cv: 0.5, weight: w })
    this.amHandling = new DurationEstimator(o.durationHalfLifeMs, { mean: 8, cv: 0.3, weight: w })
    this.amdHumanDelay = new DurationEstimator(o.durationHalfLifeMs, { mean: 2, cv: 0.3, weight: w })
    this.amdMachineDelay = new DurationEstimator(o.durationHalfLifeMs, { mean: 3, cv: 0.3, weight: w })
    this.amdFalseNegative = new ProportionEstimator(o.durationHalfLifeMs, { p: 0.15, weight: w })
  }

  /**
   * A dial's outcome as the dialer learns it: `human` / `machine` at answer time once known (AMD decision, or the
   * agent's disposition when AMD is off), `busy` / `invalid` / `noAnswer` when it fails. `afterS` is the time from
   * dial to answer (or to the failure).
   */
  onDialOutcome(at: number, outcome: DialOutcome, afterS: number): void {
    this.outcomes.add(at, outcome)
    if (outcome === 'human') this.ringHuman.add(at, afterS)
    else if (outcome === 'machine') this.ringMachine.add(at, afterS)
    else if (outcome === 'busy') this.failBusy.add(at, afterS)
    else if (outcome === 'invalid') this.failInvalid.add(at, afterS)
  }

  /** AMD's verdict `delayS` after answer. */
  onAmdDecision(at: number, saidHuman: boolean, delayS: number): void {
    ;(saidHuman ? this.amdHumanDelay : this.amdMachineDelay).add(at, delayS)
  }

  /** After AMD said human, the agent found a person (false) or a machine (true): the false-negative rate. */
  onAgentVerdict(at: number, wasMachine: boolean): void {
    this.amdFalseNegative.add(at, wasMachine)
  }

  onTalkEnded(at: number, talkS: number, wasMachine = false): void {
    ;(wasMachine ? this.amHandling : this.talk).add(at, talkS)
  }

  onWrapEnded(at: number, wrapS: number): void {
    this.wrap.add(at, wrapS)
  }

  model(): PacingModel {
    const o = this.options
    const t = this.outcomes.total()
    const share = (k: DialOutcome): number => this.outcomes.get(k) / t
    // With AMD on the dialer sees AMD's labels: observed human = h(1-fp) + m*fn, observed machine = h*fp + m(1-fn).
    // Undo the mixing so the model carries true shares (fp is configured, fn learnt from agents' verdicts).
    let human = share('human')
    let machine = share('machine')
    const fn = this.amdFalseNegative.value()
    if (o.amdEnabled) {
      const fp = o.amdFalsePositive
      const det = (1 - fp) * (1 - fn) - fp * fn
      if (det > 0.05) {
        const h = (human * (1 - fn) - fn * machine) / det
        const m = ((1 - fp) * machine - fp * human) / det
        human = Math.max(0, h)
        machine = Math.max(0, m)
      }
    }
    return {
      outcomes: { human, machine, busy: share('busy'), invalid: share('invalid'), noAnswer: share('noAnswer') },
      ringTime: { human: this.ringHuman.distribution(), machine: this.ringMachine.distribution() },
      failTimeS: { busy: mean(this.failBusy.distribution()), invalid: mean(this.failInvalid.distribution()) },
      ringTimeoutS: o.ringTimeoutS,
      talk: this.talk.distribution(),
      wrap: this.wrap.distribution(),
      amHandling: this.amHandling.distribution(),
      amd: {
        enabled: o.amdEnabled,
        humanDelay: this.amdHumanDelay.distribution(),
        machineDelay: this.amdMachineDelay.distribution(),
        falsePositive: o.amdFalsePositive,
        falseNegative: fn,
      },
      dropAfterS: o.dropAfterS,
    }
  }
}

function scale(m: DialOutcomeMix, w: number): Partial<Record<DialOutcome, number>> {
  return { human: m.human * w, machine: m.machine * w, busy: m.busy * w, invalid: m.invalid * w, noAnswer: m.noAnswer * w }
}

function mean(d: Distribution): number {
  return d.kind === 'lognormal' ? Math.exp(d.mu + (d.sigma * d.sigma) / 2) : 0
}
