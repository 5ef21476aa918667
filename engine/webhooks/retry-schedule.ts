/** When a failed delivery is tried again: exponential back-off, capped, and a last attempt after which it fails. */
export interface RetrySchedule {
  /** Delay before attempt n+1 after n failed attempts; undefined: give up. */
  delayAfter(failedAttempts: number): number | undefined
}

export function exponentialBackoff(o: { baseMs: number; maxMs: number; maxAttempts: number }): RetrySchedule {
  return {
    delayAfter(n) {
      if (n >= o.maxAttempts) return undefined
      return Math.min(o.maxMs, o.baseMs * 2 ** (n - 1))
    },
  }
}

/** 10 attempts over about 2.3 hours: 5 s, 10 s, 20 s ... capped at one hour. */
export const DefaultRetrySchedule = exponentialBackoff({ baseMs: 5_000, maxMs: 3_600_000, maxAttempts: 10 })
