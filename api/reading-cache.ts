/**
 * Readings of a value that changes all the time (a campaign's live figures), reused for up to `maxAgeMs`: a wall of
 * dashboards polling one campaign costs one reading per period instead of one per request. What a caller gets is
 * never older than `maxAgeMs` from when its reading started (`readAt`, which the route returns as `asOf`), concurrent
 * callers share a reading in progress, failed readings and `undefined` are not kept, and `invalidate` (a change made
 * through this process) makes the next caller read afresh, including over a reading already in flight.
 */
export interface Reading<V> {
  value: V
  /** When the reading started (epoch ms): the value is at least as new as this. */
  readAt: number
}

export interface ReadingCacheOptions {
  /** 0 reads every time. */
  maxAgeMs: number
  /** Default 1,000 keys; the oldest is dropped beyond. */
  maxEntries?: number
  now?: () => number
}

export class ReadingCache<K, V> {
  /** Entries are set when a reading starts, so invalidate() also drops a reading in flight. */
  private readonly entries = new Map<K, { reading: Promise<Reading<V | undefined>>; readAt: number }>()
  private readonly maxAgeMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(
    private readonly read: (key: K) => Promise<V | undefined>,
    options: ReadingCacheOptions,
  ) {
    this.maxAgeMs = options.maxAgeMs
    this.maxEntries = options.maxEntries ?? 1000
    this.now = options.now ?? Date.now
  }

  get(key: K): Promise<Reading<V | undefined>> {
    const t = this.now()
    const hit = this.entries.get(key)
    if (hit && t - hit.readAt <= this.maxAgeMs) return hit.reading
    if (this.maxAgeMs <= 0) return this.read(key).then((value) => ({ value, readAt: t }))
    const reading = this.read(key).then((value) => ({ value, readAt: t }))
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value as K)
    const entry = { reading, readAt: t }
    this.entries.set(key, entry)
    const forget = (): void => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    }
    reading.then((r) => {
      if (r.value === undefined) forget()
    }, forget)
    return reading
  }

  /** The next get(key) reads afresh (a change went through this process). */
  invalidate(key: K): void {
    this.entries.delete(key)
  }
}
