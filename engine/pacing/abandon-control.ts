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
 *    up their budget, it clamps the threshold so near-zero-risk calls only are placed until drops age out. The hour
 *    guard looks ahead (forwardHourGuard): a drop that ages out in a minute holds budget for a minute, a fresh one for
 *    the hour, so the pace is rationed by when the budget comes back, not by a count alone.
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
  /**
   * `forward`: ration drops by when the drops already in the rolling hour age out (needs the snapshot's
   * lastHourDropTimes; falls back to `count` without them). `count`: squeeze by how many drops the trailing hour holds.
   */
  hourGuard: 'forward' | 'count'
  /** Largest factor by which budget left unspent so far in the day (and 30 days) may raise the target; 1 = off. */
  daySpend: number
  /** Poisson margin (standard deviations) the forward guard keeps between expected new drops and the headroom. */
  hourGuardZ: number
  /** Seconds ahead whose drops the forward guard's margin covers (see forwardHourGuard); Infinity = the whole hour. */
  hourGuardReactS: number
}

export const defaultGovernorOptions: GovernorOptions = {
  setpointFraction: 0.93,
  initialThreshold: 0.08,
  gain: 0.05,
  predictedTauMs: 15 * 60_000,
  calibrationPrior: 4,
  hourGuardFraction: 0.8,
  hourGuard: 'forward',
  hourGuardZ: 2,
  hourGuardReactS: Number.POSITIVE_INFINITY,
  daySpend: 1,
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
    let spend = o.daySpend
    for (const w of [day, s.abandon.thirtyDays]) {
      const allowed = setpoint * w.live + 2
      if (w.drops > allowed) target *= Math.max(0.2, allowed / w.drops)
      spend = Math.min(spend, (setpoint * w.live + o.calibrationPrior) / (w.drops + o.calibrationPrior))
    }
    // Budget left unspent (drops below the setpoint's share so far) is spent on the rest of the period: without
    // this the cut above makes the controller one-sided and the day ends well under its setpoint.
    if (spend > 1) target *= spend
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
    const times = s.abandon.lastHourDropTimes
    if (h.drops >= budget) guard = 0.02
    else if (o.hourGuard === 'forward' && times !== undefined && ratePerS > 0) {
      guard = forwardHourGuard(times, s.now, budget, setpoint * ratePerS, o.hourGuardZ, o.hourGuardReactS)
    } else if (h.drops > soft) guard = Math.max(0.02, 1 - (h.drops - soft) / Math.max(1, budget - soft))
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

/**
 * The rolling-hour guard that looks ahead: the hour ending x minutes from now still holds the drops newer than
 * now - 60 min + x, so the drops it may add in those x minutes are the budget minus those. For every x (1 min steps)
 * the expected new drops at full pace, plus a Poisson margin of z standard deviations, must fit that headroom; the
 * guard is the largest pace (as a fraction of full) that fits every x. Drops about to age out free budget soon;
 * fresh ones hold it for the hour. `dropTimes` oldest first, `dropsPerS` the expected drop rate at full pace.
 *
 * `reactS` caps the span the margin covers: the guard runs again every decision, so a run of bad luck is answered by
 * a lower pace within minutes; only the drops of the next `reactS` seconds need a margin against chance, not those
 * of the whole hour ahead (a full-hour margin of z sqrt(m) drops held big teams well under their budget).
 */
export function forwardHourGuard(dropTimes: number[], now: number, budget: number, dropsPerS: number, z: number, reactS = Number.POSITIVE_INFINITY): number {
  if (!(dropsPerS > 0)) return 1
  let guard = 1
  let i = 0
  const n = dropTimes.length
  for (let x = 60; x <= 3600; x += 60) {
    const edge = now - 3_600_000 + x * 1000
    while (i < n && dropTimes[i]! <= edge) i++
    const head = budget - (n - i)
    if (head <= 0) return 0.02
    // Largest pace g with g a + z sqrt(g b) <= head, a = expected drops in x at full pace, b = those in min(x, reactS).
    const a = dropsPerS * x
    const b = dropsPerS * Math.min(x, reactS)
    const u = (-z * Math.sqrt(b) + Math.sqrt(z * z * b + 4 * a * head)) / (2 * a)
    guard = Math.min(guard, u * u)
    if (i >= n) break
  }
  return Math.max(0.02, Math.min(1, guard))
}
