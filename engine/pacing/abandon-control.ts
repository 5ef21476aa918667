import type { PacingSnapshot } from './policy.js'

/**
 * Keeps the realised abandon rate under the campaign's ceilings by moving one number: the largest chance of
 * abandonment a new call may carry (the per-call chance constraint of the predictive policy).
 *
 * Why this shape: the lookahead predicts each call's drop chance, so the predicted abandon rate of recent dials is
 * known at once, without waiting for rare drops. The governor
 * 1. steers the threshold so the predicted rate of recent dials meets a setpoint below the ceiling (fast, low noise);
 * 2. corrects the setpoint by calibration: realised drops today / predicted drops today (slow, noisy, with a prior),
 *    which absorbs model error (estimation lag, customer hang-ups, routing delay);
 * 3. guards the rolling hour and the day: when the drops already in the trailing hour (or the day, or 30 days) use
 *    up their budget, it clamps the threshold so near-zero-risk calls only are placed until drops age out.
 */
export interface GovernorOptions {
  /** Fraction of the ceiling to aim for (headroom for noise). */
  setpointFraction: number
  initialThreshold: number
  /** Per-second gain of the multiplicative threshold update. */
  gain: number
  /** Time constant of the recent predicted-rate average, ms. */
  predictedTauMs: number
  /** Prior weight (in drops) of the calibration ratio. */
  calibrationPrior: number
  /** Fraction of the hour ceiling the trailing-hour guard aims to stay under. */
  hourGuardFraction: number
}

export const defaultGovernorOptions: GovernorOptions = {
  setpointFraction: 0.93,
  initialThreshold: 0.08,
  gain: 0.05,
  predictedTauMs: 15 * 60_000,
  calibrationPrior: 4,
  hourGuardFraction: 0.8,
}

export class AbandonGovernor {
  readonly options: GovernorOptions
  private logTheta: number
  private lastAt: number | undefined
  private predNum = 0
  private predDen = 0
  private dayKey = Number.NaN
  private dayPredDrops = 0
  private dayPredLive = 0
  private liveRatePerS = 0
  private firstAt: number | undefined
  /** For reporting and tests: what the governor aimed for on its last update. */
  lastTarget = 0
  lastGuard = 1

  constructor(options: Partial<GovernorOptions> = {}) {
    this.options = { ...defaultGovernorOptions, ...options }
    this.logTheta = Math.log(this.options.initialThreshold)
  }

  /** Record the calls just placed: their drop chance and live-answer chance. */
  recordDials(now: number, dropChances: number[], liveChance: number): void {
    this.decay(now)
    for (const p of dropChances) {
      this.predNum += p * liveChance
      this.predDen += liveChance
      this.dayPredDrops += p * liveChance
      this.dayPredLive += liveChance
    }
    this.liveRatePerS += (dropChances.length * liveChance) / (this.options.predictedTauMs / 1000)
  }

  /** The threshold to use for the next decision. */
  threshold(s: PacingSnapshot): number {
    const o = this.options
    const dt = this.lastAt === undefined ? 0 : Math.max(0, (s.now - this.lastAt) / 1000)
    this.decay(s.now)
    const day = s.abandon.day
    if (day.live < this.dayKey) {
      this.dayPredDrops = 0
      this.dayPredLive = 0
    }
    this.dayKey = day.live
    const ceiling = s.abandonCeiling
    const setpoint = ceiling * o.setpointFraction
    const calib = (day.drops + o.calibrationPrior) / (this.dayPredDrops + o.calibrationPrior)
    let target = setpoint / Math.max(0.25, Math.min(4, calib))
    // Day and 30-day: if drops already exceed the setpoint share, aim lower for the rest of the period.
    for (const w of [day, s.abandon.thirtyDays]) {
      const allowed = setpoint * w.live + 2
      if (w.drops > allowed) target *= Math.max(0.2, allowed / w.drops)
    }
    this.lastTarget = target
    // Rolling-hour guard: between the setpoint's share of the hour and the guard budget, squeeze the threshold
    // linearly towards almost nothing, so drops already in the trailing hour ration the next ones.
    const h = s.abandon.lastHour
    const covered = this.firstAt === undefined ? 0 : s.now - this.firstAt
    // EWMA started from zero: divide by the share of the time constant it has seen so far.
    const seen = 1 - Math.exp(-covered / o.predictedTauMs)
    const ratePerS = seen > 0.05 ? this.liveRatePerS / seen : 0
    const expectedHourLive = Math.max(h.live, ratePerS * 3600)
    const budget = s.hourCeiling * o.hourGuardFraction * expectedHourLive
    const soft = Math.min(budget - 2, setpoint * expectedHourLive)
    let guard = 1
    if (h.drops >= budget) guard = 0.02
    else if (h.drops > soft) guard = Math.max(0.02, 1 - (h.drops - soft) / Math.max(1, budget - soft))
    const dayHeadroom = ceiling * (day.live + 30) - day.drops
    if (dayHeadroom < 3) guard = Math.min(guard, Math.max(0.02, dayHeadroom > 0 ? (dayHeadroom / 3) ** 2 : 0.02))
    const predicted = this.predDen > 0.5 ? this.predNum / this.predDen : target
    if (dt > 0) {
      let err = Math.max(-1, Math.min(1, (target - predicted) / target))
      // Anti-windup: while a guard holds the threshold down, do not let the integral climb behind its back.
      if (guard < 1 && err > 0) err = 0
      this.logTheta += o.gain * err * Math.min(dt, 5)
      this.logTheta = Math.max(Math.log(1e-3), Math.min(Math.log(0.6), this.logTheta))
    }
    this.lastGuard = guard
    return Math.exp(this.logTheta) * guard
  }

  private decay(now: number): void {
    if (this.lastAt !== undefined && now > this.lastAt) {
      const f = Math.exp(-(now - this.lastAt) / this.options.predictedTauMs)
      this.predNum *= f
      this.predDen *= f
      this.liveRatePerS *= f
    }
    if (this.lastAt === undefined || now > this.lastAt) this.lastAt = now
    if (this.firstAt === undefined) this.firstAt = now
  }
}
