/**
 * What early media tells us about a number before anyone answers: the event screening's invalid-number memory
 * consumes (engine/screening). Produced by EarlyMediaScreen from SIT tones and carrier announcements.
 */
import type { FailureEvidence } from '../screening/invalid-numbers.js'
import type { FailureCause } from '../telephony/port.js'
export const InvalidNumberReasons = [
  'sit-vacant',
  'sit-vacant-code',
  'sit-no-circuit',
  'sit-reorder',
  'sit-reserved',
  'announcement-empty-number',
  'announcement-suspended',
  'announcement-unreachable',
] as const
export type InvalidNumberReason = (typeof InvalidNumberReasons)[number]

export interface InvalidNumberEvent {
  /** E.164, when the caller of the screen knows it (the screen itself only hears audio). */
  number?: string
  callId?: string
  reason: InvalidNumberReason
  /** Epoch ms (startedAt + stream time) when the evidence was complete. */
  at: number
  /** 0..1; 1 for a SIT (a coded signal), the template match quality for an announcement. */
  confidence: number
  /** e.g. "SIT LL/SSL" or "template zh/cmn-latn-pinyin+m1 cost 0.41". */
  detail: string
}

/**
 * Whether a reason means the number is dead (never dial again) or the failure may pass (retry later): an empty
 * number or a vacant code is permanent, a suspended line may be restored, no-circuit and unreachable are
 * transient.
 */
export function isPermanent(reason: InvalidNumberReason): boolean {
  return reason === 'sit-vacant' || reason === 'sit-vacant-code' || reason === 'announcement-empty-number'
}

/**
 * The port's failure cause for an attempt we ended on this evidence: a dead or suspended number is an invalid
 * number; a network that found no circuit (reorder, no-circuit) is congestion; an unreachable phone (switched off,
 * out of the service area) is as good as no answer, to be tried again later.
 */
export function failureCauseOf(reason: InvalidNumberReason): FailureCause {
  switch (reason) {
    case 'sit-no-circuit':
    case 'sit-reorder':
      return 'congestion'
    case 'sit-reserved':
    case 'announcement-unreachable':
      return 'no-answer'
    default:
      return 'invalid-number'
  }
}

/**
 * The same evidence in the words of screening's invalid-number memory (screening/invalid-numbers.ts), so that a SIT
 * or an announcement is learned by the path a SIP 404 takes. SIT IC (intercept) is what carriers play for a number
 * no longer in service; announcements are given as the wording screening's rules know.
 */
export function failureEvidenceOf(reason: InvalidNumberReason): FailureEvidence {
  switch (reason) {
    case 'sit-vacant':
      return { sit: 'intercept' }
    case 'sit-vacant-code':
      return { sit: 'vacant-code' }
    case 'sit-no-circuit':
      return { sit: 'no-circuit' }
    case 'sit-reorder':
      return { sit: 'reorder' }
    case 'sit-reserved':
      return { sit: 'ineffective-other' }
    case 'announcement-empty-number':
      return { announcement: '空号 (the number does not exist)' }
    case 'announcement-suspended':
      return { announcement: '停机 (suspended)' }
    case 'announcement-unreachable':
      return { announcement: '无法接通 (cannot be reached)' }
  }
}

export function isInvalidNumberReason(s: string): s is InvalidNumberReason {
  return (InvalidNumberReasons as readonly string[]).includes(s)
}
