/**
 * Time that must pass after a call before the next one: a minimum re-call gap after any attempt, and a lockout after
 * an abandoned call (Ofcom: no repeat call within 72 hours of an abandoned call unless a live agent is guaranteed).
 */
import type { Rejection } from './rejection.js'

export function checkRecallGap(minGapMs: number, lastAttemptAt: number | undefined, nowMs: number): Rejection | undefined {
  if (minGapMs <= 0 || lastAttemptAt === undefined) return undefined
  const clearsAt = lastAttemptAt + minGapMs
  if (nowMs >= clearsAt) return undefined
  return {
    code: 'recall-gap',
    detail: `last attempt ${Math.round((nowMs - lastAttemptAt) / 60_000)} min ago, minimum gap is ${Math.round(minGapMs / 60_000)} min`,
    retryAt: clearsAt,
  }
}

export function checkAbandonLockout(lockoutMs: number, lastAbandonedAt: number | undefined, nowMs: number): Rejection | undefined {
  if (lockoutMs <= 0 || lastAbandonedAt === undefined) return undefined
  const clearsAt = lastAbandonedAt + lockoutMs
  if (nowMs >= clearsAt) return undefined
  return {
    code: 'abandon-lockout',
    detail: `abandoned call ${Math.round((nowMs - lastAbandonedAt) / 3_600_000)} h ago, lockout is ${Math.round(lockoutMs / 3_600_000)} h`,
    retryAt: clearsAt,
  }
}
