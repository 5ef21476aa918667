/**
 * Recycling rules: after a call attempt ends with a status, when may the lead be dialed again, and when is it done?
 * Pure: the hopper asks `nextAfterAttempt` and files the lead accordingly. Each status has a delay and an attempt
 * cap; statuses with no rule (refused, dnc, invalid, contacted, done) are final. Defaults follow our users' plans:
 * no answer retries next day at the same time, busy after 10 minutes, machine after 4 hours, refusal never.
 */
import type { FailureCause } from '../telephony/port.js'
import type { Lead, LeadStatus } from './lead.js'

export interface RecycleRule {
  /** Wait after the attempt before the lead is offered again. */
  delayMs: number
  /** Attempts (including the one just made) after which the lead is done. */
  maxAttempts: number
}

export type RecycleRules = Partial<Record<LeadStatus, RecycleRule>>

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

export const DEFAULT_RECYCLE_RULES: Readonly<RecycleRules> = Object.freeze({
  'no-answer': { delayMs: DAY, maxAttempts: 5 },
  busy: { delayMs: 10 * MINUTE, maxAttempts: 6 },
  machine: { delayMs: 4 * HOUR, maxAttempts: 3 },
  // Our own abandoned call: wait out the 72-hour lockout before trying again.
  abandoned: { delayMs: 72 * HOUR, maxAttempts: 3 },
})

export type RecycleDecision =
  | { kind: 'retry'; at: number }
  | { kind: 'callback'; at: number; ownerAgentId?: string }
  | { kind: 'final'; reason: 'final-status' | 'max-attempts' }

/**
 * Decide what happens to a lead after an attempt that ended at `at` with `status`. `attempts` counts the attempts
 * made so far, this one included (normally `lead.attemptTimes.length`).
 */
export function nextAfterAttempt(
  status: LeadStatus,
  attempts: number,
  at: number,
  rules: RecycleRules = DEFAULT_RECYCLE_RULES,
  callback?: { at: number; ownerAgentId?: string },
): RecycleDecision {
  if (status === 'callback') {
    if (!callback) throw new Error('status callback needs a callback time')
    return callback.ownerAgentId === undefined
      ? { kind: 'callback', at: callback.at }
      : { kind: 'callback', at: callback.at, ownerAgentId: callback.ownerAgentId }
  }
  if (status === 'new') return { kind: 'retry', at }
  const rule = rules[status]
  if (!rule) return { kind: 'final', reason: 'final-status' }
  if (attempts >= rule.maxAttempts) return { kind: 'final', reason: 'max-attempts' }
  return { kind: 'retry', at: at + rule.delayMs }
}

/**
 * Where a lead loaded from the lead source belongs: a booked callback, a recycled lead due at its retry time
 * (from its last attempt), a fresh lead, or nowhere (final).
 */
export function placementOf(
  lead: Lead,
  rules: RecycleRules = DEFAULT_RECYCLE_RULES,
): { kind: 'callback'; at: number } | { kind: 'recycle'; at: number } | { kind: 'new' } | { kind: 'final' } {
  if (lead.status === 'callback' && lead.callbackAt !== undefined) return { kind: 'callback', at: lead.callbackAt }
  if (lead.status === 'new' || lead.status === 'callback') return { kind: 'new' }
  const last = lead.attemptTimes[lead.attemptTimes.length - 1]
  const decision = nextAfterAttempt(lead.status, lead.attemptTimes.length, last ?? 0, rules)
  if (decision.kind === 'retry') return { kind: 'recycle', at: decision.at }
  return { kind: 'final' }
}

/**
 * The lead status a failed attempt leaves. Causes that say nothing about the customer (congestion, a trunk down,
 * our own cancel) return undefined: the caller releases the lead without counting it against the lead.
 */
export function statusForFailure(cause: FailureCause): LeadStatus | undefined {
  switch (cause) {
    case 'busy':
      return 'busy'
    case 'no-answer':
      return 'no-answer'
    case 'rejected':
      return 'busy'
    case 'invalid-number':
      return 'invalid'
    case 'congestion':
    case 'cancelled':
    case 'trunk-unavailable':
      return undefined
  }
}
