/**
 * Attempt caps: a total per lead and rolling-window caps (24 h, 7 days, 30 days). Rolling means "attempts in the
 * last W ms", counted at the instant of the new call; Chinese carriers intercept above 3 per 24 h and 10 per 30 days,
 * and customers ask for no more than twice a week. A cap is reached when the window already holds `max` attempts; it
 * clears when enough of them age out.
 */
import type { Rejection } from './rejection.js'

export interface AttemptCaps {
  /** Attempts ever placed to this lead; undefined = no cap. */
  maxTotal?: number
  max24h?: number
  max7d?: number
  max30d?: number
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

export const CapWindows = [
  { key: 'max24h', windowMs: DAY, code: 'attempt-cap-24h', label: '24 hours' },
  { key: 'max7d', windowMs: 7 * DAY, code: 'attempt-cap-7d', label: '7 days' },
  { key: 'max30d', windowMs: 30 * DAY, code: 'attempt-cap-30d', label: '30 days' },
] as const

/** Attempts counted by a window at `nowMs`: those strictly after now - W (future-dated ones included). */
export function attemptsInWindow(sortedAttempts: readonly number[], windowMs: number, nowMs: number): number[] {
  return sortedAttempts.filter((a) => a > nowMs - windowMs)
}

/** Rejections for every cap the attempts reach at `nowMs`. `sortedAttempts` ascending, finite. */
export function checkAttemptCaps(caps: AttemptCaps, sortedAttempts: readonly number[], nowMs: number): Rejection[] {
  const out: Rejection[] = []
  if (caps.maxTotal !== undefined && sortedAttempts.length >= caps.maxTotal) {
    out.push({ code: 'attempt-cap-total', detail: `${sortedAttempts.length} attempts, cap is ${caps.maxTotal} in total` })
  }
  for (const w of CapWindows) {
    const max = caps[w.key]
    if (max === undefined) continue
    const inWindow = attemptsInWindow(sortedAttempts, w.windowMs, nowMs)
    if (inWindow.length < max) continue
    // The window must drop to max - 1 attempts: the (len - max + 1)-th oldest must age out.
    const pivot = inWindow[inWindow.length - max]
    const rejection: Rejection = {
      code: w.code,
      detail: `${inWindow.length} attempts in the last ${w.label}, cap is ${max}`,
    }
    if (max > 0 && pivot !== undefined) rejection.retryAt = pivot + w.windowMs
    out.push(rejection)
  }
  return out
}
