/**
 * Real-time events on Redis Streams, one stream per site, capped at about `maxLen` entries. Streams (not pub/sub)
 * because a desktop that reconnects must get what it missed (SSE Last-Event-ID) and webhooks must not lose an event
 * when the API restarts. XADD is a single atomic command: no script needed.
 */
import type { Redis } from 'ioredis'
import { AllEventNames, type DomainEvent, type EventName, type EventPublisher, type StoredEvent } from '../../events/event-names.js'
import { assertKeyId, type CadenceKeys } from './keys.js'

const Names: ReadonlySet<string> = new Set(AllEventNames)

export class RedisEventStream implements EventPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly keys: CadenceKeys,
    private readonly maxLen = 10_000,
  ) {}

  key(siteId: string): string {
    assertKeyId('site', siteId)
    return `${this.keys.prefix}:events:${siteId}`
  }

  async publish(event: DomainEvent): Promise<void> {
    await this.redis.xadd(this.key(event.siteId), 'MAXLEN', '~', String(this.maxLen), '*', 'e', JSON.stringify(event))
  }

  /** Events after `afterId` (exclusive), oldest first: what a reconnecting client missed. */
  async since(siteId: string, afterId: string, count = 1000): Promise<StoredEvent[]> {
    const entries = await this.redis.xrange(this.key(siteId), `(${afterId}`, '+', 'COUNT', count)
    return entries.flatMap(([id, fields]) => parse(id, fields))
  }

  /** The id of the newest event, or '0-0' for an empty stream (where a new reader starts). */
  async lastId(siteId: string): Promise<string> {
    const r = await this.redis.xrevrange(this.key(siteId), '+', '-', 'COUNT', 1)
    return r[0]?.[0] ?? '0-0'
  }

  /**
   * Block up to `blockMs` for events after the given ids, on a connection of its own (a blocking read holds it).
   * Returns events by site.
   */
  async read(conn: Redis, after: ReadonlyMap<string, string>, blockMs: number): Promise<StoredEvent[]> {
    if (after.size === 0) return []
    const sites = [...after.keys()]
    const res = (await conn.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', ...sites.map((s) => this.key(s)), ...sites.map((s) => after.get(s)!))) as
      | Array<[string, Array<[string, string[]]>]>
      | null
    if (!res) return []
    return res.flatMap(([, entries]) => entries.flatMap(([id, fields]) => parse(id, fields)))
  }
}

function parse(id: string, fields: string[]): StoredEvent[] {
  const i = fields.indexOf('e')
  if (i < 0 || i + 1 >= fields.length) return []
  try {
    const e = JSON.parse(fields[i + 1]!) as DomainEvent
    if (!Names.has(e.type as EventName)) return []
    return [{ ...e, id }]
  } catch {
    return []
  }
}
