/**
 * Where a caller stands in an inbound queue, counted over every engine's callers: each queued caller is one member
 * of a ZSET scored by the time it was queued, so a position is a rank. An engine that dies leaves its callers'
 * members behind; a caller cannot have waited longer than its number's maximum wait, so members older than that (and
 * a minute) are dropped before each rank, and a stale member never inflates a position for long.
 */
import type { Redis } from 'ioredis'
import type { CadenceKeys } from './keys.js'

/** The queue positions InboundCalls announces (engine/telephony/drachtio/inbound-calls.ts). */
export interface QueuePositions {
  join(queue: string, callId: string, queuedAt: number): Promise<void>
  /** 1 for the caller waiting longest. `maxWaitMs`: no caller of this queue has been queued longer. */
  position(queue: string, callId: string, now: number, maxWaitMs: number): Promise<number>
  leave(queue: string, callId: string): Promise<void>
}

const StaleMarginMs = 60_000

export class RedisQueuePositions implements QueuePositions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: CadenceKeys,
  ) {}

  async join(queue: string, callId: string, queuedAt: number): Promise<void> {
    await this.redis.zadd(this.keys.inboundWaiting(queue), queuedAt, callId)
  }

  async position(queue: string, callId: string, now: number, maxWaitMs: number): Promise<number> {
    const key = this.keys.inboundWaiting(queue)
    const r = await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', `(${now - maxWaitMs - StaleMarginMs}`)
      .zrank(key, callId)
      .exec()
    const rank = r?.[1]?.[1]
    // a member dropped meanwhile (the caller left): nobody is ahead of a caller no longer waiting
    return typeof rank === 'number' ? rank + 1 : 1
  }

  async leave(queue: string, callId: string): Promise<void> {
    await this.redis.zrem(this.keys.inboundWaiting(queue), callId)
  }
}
