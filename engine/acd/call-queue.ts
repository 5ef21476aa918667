/**
 * Calls waiting for an agent. Within a queue, higher priority goes first, then the longest waiting. The order is a
 * single number so Redis sorted sets (pop-call.lua) and in-memory code agree.
 */

export interface QueuedCall {
  callId: string
  queueId: string
  /** Higher first; clamped to -99..99. */
  priority: number
  enqueuedAt: number
  /** Routing needs carried with the call. */
  skill?: string
  ownerAgentId?: string
  /** Only the owner may take it (an owned callback inside its grace). */
  ownerOnly?: boolean
  /** Free-form context for the screen pop (lead id, campaign...). */
  data?: Record<string, string>
}

const PRIORITY_STEP = 1e13

/** Sorted-set score: lower pops first. Exact for epoch-ms times before year 2286. */
export function queueScore(priority: number, enqueuedAt: number): number {
  const p = Math.max(-99, Math.min(99, Math.trunc(priority)))
  return -p * PRIORITY_STEP + enqueuedAt
}

/** Best call among several queues' heads: lowest score, then the earliest queue listed. */
export function compareQueued(a: QueuedCall, b: QueuedCall): number {
  return queueScore(a.priority, a.enqueuedAt) - queueScore(b.priority, b.enqueuedAt)
}
