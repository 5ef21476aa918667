/**
 * The engine never reads the wall clock directly: every decision takes a Clock, so the same pacing, screening and
 * ACD code runs live (RealClock) and in the simulator or tests under virtual time (VirtualClock) at any speed.
 * Times are epoch milliseconds.
 */
export interface TimerHandle {
  readonly id: number
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, delayMs: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>()
  private nextId = 1

  now(): number {
    return Date.now()
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++
    const t = setTimeout(() => {
      this.timers.delete(id)
      fn()
    }, Math.max(0, delayMs))
    this.timers.set(id, t)
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    const t = this.timers.get(handle.id)
    if (t) {
      clearTimeout(t)
      this.timers.delete(handle.id)
    }
  }
}

interface PendingTimer {
  id: number
  at: number
  seq: number
  fn: () => void
}

/**
 * Discrete-event time: timers fire in (time, insertion) order when the owner advances the clock. A binary heap keeps
 * an 8-hour, 100-agent shift (millions of timers) fast. Like Date.now(), it reads whole milliseconds: delays drawn
 * from continuous distributions are rounded, so stores that want integer times (Redis HINCRBY, SQL) get them.
 */
export class VirtualClock implements Clock {
  private current: number
  private heap: PendingTimer[] = []
  private cancelled = new Set<number>()
  private nextId = 1
  private seq = 0

  constructor(startMs = 0) {
    this.current = Math.round(startMs)
  }

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++
    const delay = Number.isFinite(delayMs) ? Math.max(0, Math.round(delayMs)) : 0
    this.push({ id, at: this.current + delay, seq: this.seq++, fn })
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    this.cancelled.add(handle.id)
  }

  /** Time of the next pending timer, or undefined when none is left. */
  nextAt(): number | undefined {
    this.dropCancelledHead()
    return this.heap[0]?.at
  }

  /** Fire every timer due up to and including `untilMs`, then set the clock to `untilMs`. Returns timers fired. */
  advanceTo(untilMs: number): number {
    untilMs = Math.floor(untilMs)
    let fired = 0
    for (;;) {
      this.dropCancelledHead()
      const head = this.heap[0]
      if (!head || head.at > untilMs) break
      this.pop()
      this.current = Math.max(this.current, head.at)
      fired++
      head.fn()
    }
    this.current = Math.max(this.current, untilMs)
    return fired
  }

  advanceBy(ms: number): number {
    return this.advanceTo(this.current + ms)
  }

  /** Run until no timer is left or the clock passes `limitMs`. */
  runUntilIdle(limitMs = Number.POSITIVE_INFINITY): void {
    for (;;) {
      const at = this.nextAt()
      if (at === undefined || at > limitMs) return
      this.advanceTo(at)
    }
  }

  private dropCancelledHead(): void {
    while (this.heap.length > 0 && this.cancelled.has(this.heap[0]!.id)) {
      this.cancelled.delete(this.heap[0]!.id)
      this.pop()
    }
  }

  private less(a: PendingTimer, b: PendingTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  private push(t: PendingTimer): void {
    const h = this.heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  private pop(): PendingTimer | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

/**
 * Real time sped up: `speed` virtual milliseconds pass per real millisecond, from `startMs`. The demo runs the
 * simulated site faster than life with the same live code paths (timers, I/O) as production.
 */
export class ScaledClock implements Clock {
  private readonly inner = new RealClock()
  private readonly realStart = Date.now()

  constructor(
    private readonly speed: number,
    private readonly startMs: number = Date.now(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`ScaledClock: speed must be a positive number, got ${speed}`)
  }

  now(): number {
    return Math.round(this.startMs + (Date.now() - this.realStart) * this.speed)
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.inner.setTimeout(fn, Math.max(0, delayMs) / this.speed)
  }

  clearTimeout(handle: TimerHandle): void {
    this.inner.clearTimeout(handle)
  }
}
