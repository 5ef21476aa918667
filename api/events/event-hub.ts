/**
 * One blocking reader per API process over the event streams of the sites someone listens to, fanning each event out
 * to the subscribers whose filter takes it. One Redis connection serves every SSE client and webhook of the process,
 * instead of one blocking connection per desktop.
 */
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../../engine/events/event-names.js'
import type { RedisEventStream } from '../../engine/store/redis/event-stream.js'

export interface Subscription {
  siteId: string
  accept(event: StoredEvent): boolean
  deliver(event: StoredEvent): void
}

export interface HubLog {
  warn(obj: object, msg: string): void
}

export class EventHub {
  private readonly subs = new Set<Subscription>()
  /** Last id read per site; a site enters when its first subscriber does, at the stream's end. */
  private readonly cursors = new Map<string, string>()
  private reader: Redis | undefined
  private loop: Promise<void> | undefined
  private closed = false

  constructor(
    private readonly o: { redis: Redis; stream: RedisEventStream; log: HubLog; blockMs?: number },
  ) {}

  /** Start delivering a site's new events to `sub`; returns the unsubscribe function. */
  async subscribe(sub: Subscription): Promise<() => void> {
    if (!this.cursors.has(sub.siteId)) this.cursors.set(sub.siteId, await this.o.stream.lastId(sub.siteId))
    this.subs.add(sub)
    this.ensureLoop()
    return () => {
      this.subs.delete(sub)
    }
  }

  get subscribers(): number {
    return this.subs.size
  }

  private ensureLoop(): void {
    if (this.loop || this.closed) return
    this.reader ??= this.o.redis.duplicate()
    this.loop = this.run().finally(() => {
      this.loop = undefined
    })
  }

  private async run(): Promise<void> {
    const reader = this.reader!
    while (!this.closed && this.subs.size > 0) {
      const sites = new Map([...this.cursors].filter(([site]) => [...this.subs].some((s) => s.siteId === site)))
      let events: StoredEvent[]
      try {
        events = await this.o.stream.read(reader, sites, this.o.blockMs ?? 5000)
      } catch (err) {
        if (this.closed) return
        this.o.log.warn({ err }, 'reading the event streams failed; retrying')
        await new Promise((r) => setTimeout(r, 1000))
        continue
      }
      for (const e of events) {
        this.cursors.set(e.siteId, e.id)
        for (const s of this.subs) {
          if (s.siteId !== e.siteId || !s.accept(e)) continue
          try {
            s.deliver(e)
          } catch (err) {
            this.o.log.warn({ err, event: e.type }, 'a subscriber failed to take an event')
          }
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.subs.clear()
    // Disconnecting ends a pending blocking read at once.
    this.reader?.disconnect()
    await this.loop?.catch(() => undefined)
  }
}
