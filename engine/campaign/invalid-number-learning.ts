/**
 * What a finished call teaches screening's invalid-number memory: a SIP status that says the number does not exist
 * (404, 410, 484, 604), or the SIT tone or carrier announcement its early media played before we cancelled it
 * (which may also say "suspended" or "unreachable", remembered for less time). One path for both, so a number the
 * network rejects in signalling and one it rejects in audio are kept away from agents alike.
 */
import type { Cdr } from '../calls/cdr.js'
import { failureEvidenceOf, isInvalidNumberReason } from '../media/invalid-number.js'
import { learnFromFailure, type LearnedInvalid } from '../screening/invalid-numbers.js'

export function learnedFromCdr(cdr: Cdr, e164: string): LearnedInvalid | undefined {
  const heard = cdr.earlyMediaReason !== undefined && isInvalidNumberReason(cdr.earlyMediaReason) ? failureEvidenceOf(cdr.earlyMediaReason) : undefined
  if (!heard && !(cdr.outcome === 'invalid-number' && cdr.sipStatus !== undefined)) return undefined
  const entry = learnFromFailure(e164, { ...(cdr.sipStatus !== undefined ? { sipStatus: cdr.sipStatus } : {}), ...heard }, cdr.endedAt)
  // the audit trail says what was heard, not only its class
  if (entry && heard && entry.source !== 'sip' && cdr.earlyMediaDetail) entry.detail = `${entry.detail}: ${cdr.earlyMediaDetail}`
  return entry
}
