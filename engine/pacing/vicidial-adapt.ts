import { countAgents, type PacingPolicy, type PacingSnapshot } from './policy.js'

/**
 * VICIdial's adaptive dial level (ADAPT_TAPERED / ADAPT_HARD_LIMIT / ADAPT_AVERAGE), reimplemented from the algorithm
 * as described in pacing-anchors §1.2-1.3 (no VICIdial code used). Kept as a baseline for the bench.
 *
 * Every 1 s: sample ready agents, answered calls waiting, logged-in agents. Every 15 s: move the level
 * multiplicatively with (mean ready - mean waiting + diff target) / mean agents, scaled by intensity, bounded to
 * [1, maximum]. Every 60 s: refresh drop statistics; over the cap since midnight the mode cuts the level.
 * Calls to place = round(level x (ready + in-call agents)) - (calls ringing/queued + calls with agents).
 */
export type AdaptMode = 'ADAPT_TAPERED' | 'ADAPT_HARD_LIMIT' | 'ADAPT_AVERAGE'

export interface VicidialAdaptOptions {
  mode: AdaptMode
  /** Drop % limit (adaptive_dropped_percentage), percent. */
  droppedPercentage: number
  maximumLevel: number
  /** HHMM (adaptive_latest_server_time), in the campaign's local time. */
  latestServerTime: number
  /** -40..40 */
  intensity: number
  /** -40..40 */
  diffTarget: number
  utcOffsetMinutes: number
}

export const defaultVicidialOptions: VicidialAdaptOptions = {
  mode: 'ADAPT_TAPERED',
  droppedPercentage: 3,
  maximumLevel: 3,
  latestServerTime: 2100,
  intensity: 0,
  diffTarget: 0,
  utcOffsetMinutes: 0,
}

export class VicidialAdaptPolicy implements PacingPolicy {
  readonly name: string
  readonly options: VicidialAdaptOptions
  level = 1
  private samples: { ready: number; waiting: number; total: number }[] = []
  private lastSampleAt: number | undefined
  private sinceUpdate = 0
  private lastDropRefreshAt: number | undefined
  private dialsToday = 0
  private dialsAtLastRefresh = 0
  private dropsAtLastRefresh = 0
  private lastDialSeen = Number.NEGATIVE_INFINITY
  private day: number | undefined
  private dropStats = { dialsToday: 0, dropPctToday: 0, callsLastMin: 0, dropsLastMin: 0 }

  constructor(options: Partial<VicidialAdaptOptions> = {}) {
    this.options = { ...defaultVicidialOptions, ...options }
    this.name = `vicidial ${this.options.mode.toLowerCase().replace('adapt_', 'adapt-')}`
  }

  decide(s: PacingSnapshot): number {
    const c = countAgents(s)
    this.countDials(s)
    if (this.lastSampleAt === undefined || s.now - this.lastSampleAt >= 1000) {
      this.lastSampleAt = s.now
      const waiting = s.calls.filter((x) => x.phase === 'waiting').length
      const total = s.agents.filter((a) => a.state !== 'logged-out').length
      this.samples.push({ ready: c.ready, waiting, total })
      if (this.samples.length > 15) this.samples.shift()
      this.sinceUpdate++
      if (this.lastDropRefreshAt === undefined || s.now - this.lastDropRefreshAt >= 60_000) this.refreshDrops(s)
      if (this.sinceUpdate >= 15) {
        this.sinceUpdate = 0
        this.updateLevel(s)
      }
    }
    const agents = c.ready + c['on-call'] + c.reserved
    const goal = Math.round(this.level * agents)
    return goal - (s.calls.length + c['on-call'] + c.reserved)
  }

  private countDials(s: PacingSnapshot): void {
    const off = this.options.utcOffsetMinutes * 60_000
    const day = Math.floor((s.now + off) / 86_400_000)
    if (this.day !== day) {
      this.day = day
      this.dialsToday = 0
      this.dialsAtLastRefresh = 0
    }
    let max = this.lastDialSeen
    for (const call of s.calls) {
      if (call.dialedAt > this.lastDialSeen) {
        this.dialsToday++
        if (call.dialedAt > max) max = call.dialedAt
      }
    }
    this.lastDialSeen = max
  }

  private refreshDrops(s: PacingSnapshot): void {
    this.lastDropRefreshAt = s.now
    const d = s.abandon.day
    this.dropStats = {
      dialsToday: this.dialsToday,
      dropPctToday: d.live > 0 ? (100 * d.drops) / d.live : 0,
      callsLastMin: this.dialsToday - this.dialsAtLastRefresh,
      dropsLastMin: Math.max(0, d.drops - this.dropsAtLastRefresh),
    }
    this.dialsAtLastRefresh = this.dialsToday
    this.dropsAtLastRefresh = d.drops
  }

  private updateLevel(s: PacingSnapshot): void {
    const o = this.options
    const n = this.samples.length
    const avg = (f: (x: { ready: number; waiting: number; total: number }) => number): number =>
      this.samples.reduce((a, x) => a + f(x), 0) / n
    const readyAvg = avg((x) => x.ready)
    const waitingAvg = avg((x) => x.waiting)
    const totalAvg = avg((x) => x.total)
    const target = readyAvg - waitingAvg + o.diffTarget
    let mul = target === 0 || totalAvg === 0 ? 0 : target / totalAvg
    const i = o.intensity / 100
    mul = mul >= 0 ? mul * (1 + i) : mul * Math.abs(i - 1)
    let level = this.level * (1 + mul)
    level = Math.max(1, Math.min(level, o.maximumLevel))
    const st = this.dropStats
    if (st.callsLastMin > 20 && st.dropsLastMin / st.callsLastMin > 0.5) level /= 2
    if (st.dialsToday > 50 && st.dropPctToday > o.droppedPercentage) {
      if (o.mode === 'ADAPT_HARD_LIMIT') level = 1
      else if (o.mode === 'ADAPT_AVERAGE') level /= 2
      else {
        const hoursLeft = o.latestServerTime - hhmm(s.now, o.utcOffsetMinutes)
        if (hoursLeft < 0) level = 1
        else level *= hoursLeft > 1000 ? 1 : hoursLeft / 1000
      }
    }
    this.level = Math.max(1, level)
  }
}

/** Local time of day as VICIdial's HHMM integer. */
export function hhmm(epochMs: number, utcOffsetMinutes: number): number {
  const minutes = Math.floor(((epochMs / 60_000 + utcOffsetMinutes) % 1440 + 1440) % 1440)
  return Math.floor(minutes / 60) * 100 + (minutes % 60)
}
