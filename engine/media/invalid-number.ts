/**
 * What early media tells us about a number before anyone answers: the event screening's invalid-number memory
 * consumes (engine/screening). Produced by EarlyMediaScreen from SIT tones and carrier announcements.
 */
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
