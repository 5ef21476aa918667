/**
 * Abandon accounting over the windows a campaign names. Events are live answers: connected to an agent in time, or
 * abandoned (dropped). FCC-style rate = drops / live answers. Ofcom-style adds a reasoned estimate of AMD false
 * positives (people AMD hung up on) to the drops: est = fp/(1-fp) x live answers that passed AMD.
 * Pure data structure: times are epoch ms passed in, nothing reads a clock.
 */
export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

export interface WindowCounts {
  live: number
  drops: number
}

export interface AbandonStatus {
  /** Calendar day (in the campaign's UTC offset) containing `now`. */
  day: WindowCounts
  /** Rolling 30 days ending now. */
  thirtyDays: WindowCounts
  /** Rolling hour ending now. */
  lastHour: WindowCounts
  /** Worst rolling-hour FCC rate seen so far (windows with at least `minHourAnswers` live answers). */
  worstHourRate: number
  /**
   * When each drop of the rolling hour happened (epoch ms, oldest first). Lets a governor see when drops will age
   * out of the hour, not only how many there are. Optional: snapshots built by hand may leave it out.
   */
  lastHourDropTimes?: number[]
}

export interface AbandonLedgerOptions {
  /** Offset of the campaign's calendar day from UTC, minutes (e.g. -300 for US Eastern standard time). */
  utcOffsetMinutes: number
  /** A rolling hour counts towards the worst hour only with this many live answers (tiny windows are noise). */
  minHourAnswers: number
  /** Rolling hours are only judged once the ledger has covered a full hour since `startedAt`. */
  startedAt?: number
}

export function fccRate(c: WindowCounts): number {
  return c.live > 0 ? c.drops / c.live : 0
}

export function ofcomRate(c: WindowCounts, amdFalsePositive: number): number {
  const estFp = amdFalsePositive >= 1 ? 0 : (amdFalsePositive / (1 - amdFalsePositive)) * c.live
  const connected = c.live - c.drops
  const denom = connected + c.drops
  return denom > 0 ? (c.drops + estFp) / denom : 0
}

export class AbandonLedger {
  private times: number[] = []
  /** Cumulative counts up to and including event i. */
  private cumLive: number[] = []
  private cumDrops: number[] = []
  /** Times of drops only (few), so the rolling hour's drop times cost a binary search. */
  private dropTimes: number[] = []
  private base = { live: 0, drops: 0 }
  private worst = 0
  private startedAt: number | undefined
  readonly options: AbandonLedgerOptions

  constructor(options: Partial<AbandonLedgerOptions> = {}) {
    this.options = { utcOffsetMinutes: 0, minHourAnswers: 1, ...options }
    this.startedAt = options.startedAt
  }

  /** A live answer at `at`: `dropped` if it found no agent in time. Events must come in time order. */
  record(at: number, dropped: boolean): void {
    const n = this.times.length
    if (n > 0 && at < this.times[n - 1]!) throw new Error(`abandon ledger: event at ${at} before the last (${this.times[n - 1]})`)
    if (this.startedAt === undefined) this.startedAt = at
    const pl = n > 0 ? this.cumLive[n - 1]! : this.base.live
    const pd = n > 0 ? this.cumDrops[n - 1]! : this.base.drops
    this.times.push(at)
    this.cumLive.push(pl + 1)
    this.cumDrops.push(pd + (dropped ? 1 : 0))
    if (dropped) this.dropTimes.push(at)
    this.trackWorst(at)
    if (this.times.length > 4096 && at - this.times[0]! > 31 * DAY_MS) this.prune(at - 31 * DAY_MS)
  }

  /** Counts of events with time in (from, to]. */
  counts(from: number, to: number): WindowCounts {
    const a = this.cumAt(from)
    const b = this.cumAt(to)
    return { live: b.live - a.live, drops: b.drops - a.drops }
  }

  dayStart(now: number): number {
    const off = this.options.utcOffsetMinutes * 60_000
    return Math.floor((now + off) / DAY_MS) * DAY_MS - off
  }

  status(now: number): AbandonStatus {
    return {
      day: this.counts(this.dayStart(now) - 1, now),
      thirtyDays: this.counts(now - 30 * DAY_MS, now),
      lastHour: this.counts(now - HOUR_MS, now),
      worstHourRate: this.worst,
      lastHourDropTimes: this.dropTimesIn(now - HOUR_MS, now),
    }
  }

  /** Worst FCC rate over rolling windows of `windowMs` lying in [from, to], checked at every event edge. */
  worstWindowRate(windowMs: number, from: number, to: number, minLive: number = this.options.minHourAnswers): number {
    let worst = 0
    const check = (end: number): void => {
      if (end - windowMs < from - 1e-9 || end > to) return
      const c = this.counts(end - windowMs, end)
      if (c.live >= minLive && c.live > 0) worst = Math.max(worst, c.drops / c.live)
    }
    check(from + windowMs)
    for (const t of this.times) {
      check(t)
      // A window whose left edge has just passed a live answer loses it from the denominator.
      check(t + windowMs)
    }
    check(to)
    return worst
  }

  private trackWorst(at: number): void {
    if (this.startedAt === undefined || at - this.startedAt < HOUR_MS) return
    const c = this.counts(at - HOUR_MS, at)
    if (c.live >= this.options.minHourAnswers) this.worst = Math.max(this.worst, c.drops / c.live)
  }

  /** Drop times in (from, to], oldest first. */
  dropTimesIn(from: number, to: number): number[] {
    const d = this.dropTimes
    let lo = 0
    let hi = d.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (d[mid]! <= from) lo = mid + 1
      else hi = mid
    }
    const out: number[] = []
    for (let i = lo; i < d.length && d[i]! <= to; i++) out.push(d[i]!)
    return out
  }

  /** Cumulative counts of events with time <= t. */
  private cumAt(t: number): WindowCounts {
    let lo = 0
    let hi = this.times.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.times[mid]! <= t) lo = mid + 1
      else hi = mid
    }
    if (lo === 0) return { ...this.base }
    return { live: this.cumLive[lo - 1]!, drops: this.cumDrops[lo - 1]! }
  }

  private prune(before: number): void {
    let k = 0
    while (k < this.times.length && this.times[k]! < before) k++
    if (k === 0) return
    this.base = { live: this.cumLive[k - 1]!, drops: this.cumDrops[k - 1]! }
    this.times = this.times.slice(k)
    this.cumLive = this.cumLive.slice(k)
    this.cumDrops = this.cumDrops.slice(k)
    let j = 0
    while (j < this.dropTimes.length && this.dropTimes[j]! < before) j++
    if (j > 0) this.dropTimes = this.dropTimes.slice(j)
  }
}
