/**
 * Lookups by key that arrive together go to the database together: every `load(key)` made while the event loop is
 * busy with one round of I/O joins one `WHERE id = ANY($1)` query, run when that round is done (setImmediate). Under
 * load an API read costs one round trip per batch instead of one per request; a socket write to PostgreSQL and the
 * wake-up of its backend are most of what a read costs (bench:api, profiled). Nothing is cached: a query runs after
 * every request in it arrived, so a read still sees every write that finished before it came in.
 */
export class BatchedLookup<K, V> {
  private pending = new Map<K, Array<{ resolve: (v: V | undefined) => void; reject: (err: unknown) => void }>>()
  private scheduled = false

  /** `fetchMany` answers for any subset of the keys it is given (a missing key is "not found"). */
  constructor(
    private readonly fetchMany: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly maxBatch = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key)
      if (waiting) waiting.push({ resolve, reject })
      else this.pending.set(key, [{ resolve, reject }])
      if (this.pending.size >= this.maxBatch) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.scheduled = false
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    this.fetchMany([...batch.keys()]).then(
      (found) => {
        for (const [key, waiting] of batch) for (const w of waiting) w.resolve(found.get(key))
      },
      (err: unknown) => {
        for (const waiting of batch.values()) for (const w of waiting) w.reject(err)
      },
    )
  }
}
