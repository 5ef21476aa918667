/**
 * Why a lead may not be dialed now: a machine-readable code, a human detail, and for time-based reasons the
 * earliest instant that reason clears (`retryAt`), so the API can say why a lead is not dialable and when it will be.
 */
export const RejectionCodes = [
  'invalid-policy',
  'invalid-lead',
  'invalid-clock',
  'invalid-format',
  'invalid-number',
  'number-type',
  'region-not-allowed',
  'lead-dnc',
  'lead-refused',
  'dnc-unavailable',
  'dnc-global',
  'dnc-campaign',
  'dnc-prefix',
  'no-consent',
  'learned-invalid',
  'invalid-timezone',
  'unknown-timezone',
  'outside-hours',
  'holiday',
  'attempt-cap-total',
  'attempt-cap-24h',
  'attempt-cap-7d',
  'attempt-cap-30d',
  'recall-gap',
  'abandon-lockout',
] as const
export type RejectionCode = (typeof RejectionCodes)[number]

export interface Rejection {
  code: RejectionCode
  detail: string
  /** Earliest epoch ms at which this reason alone clears; absent when it does not clear with time. */
  retryAt?: number
}
