/**
 * SIP final statuses of an outbound INVITE mapped onto the port's failure causes (issue 5): what pacing and
 * screening learn from a failed attempt. The raw status and reason travel on the `failed` event for the CDR.
 */
import type { FailureCause } from '../port.js'

/**
 * Who ended the attempt before any final answer from the far end: us, and why ('early-media': the early media was a
 * SIT or a carrier announcement; the cause then comes from what was heard, not from the status).
 */
export type OurCancel = 'none' | 'ring-timeout' | 'hangup' | 'early-media'

export function causeOfStatus(status: number, ourCancel: OurCancel): FailureCause {
  // A 487 (or anything) after our own CANCEL is the outcome we chose, not the carrier's.
  if (ourCancel === 'hangup') return 'cancelled'
  if (ourCancel === 'ring-timeout') return 'no-answer'
  switch (status) {
    case 404:
    case 410:
    case 484:
    case 604:
      return 'invalid-number'
    case 486:
    case 600:
      return 'busy'
    case 408:
    case 480:
    case 487:
      return 'no-answer'
    case 403:
    case 603:
      return 'rejected'
  }
  if (status >= 500 && status < 600) return 'congestion'
  // Other 4xx/6xx: the carrier refused this call for a reason we do not model; no retry is implied.
  return 'rejected'
}

/**
 * Whether a failure on one gateway may be retried on the trunk's next gateway (crank-back): the gateway or its
 * network failed (5xx, 408, no provisional before our timeout), never the callee (busy, invalid, declined), and
 * never once early media was heard (the callee's network already spoke: a retry could ring the person twice).
 */
export function mayCrankBack(status: number, sawEarlyMedia: boolean): boolean {
  if (sawEarlyMedia) return false
  return status === 408 || (status >= 500 && status < 600)
}
