/**
 * Numbers learned invalid from how calls to them failed: SIP final responses, Q.850 causes (from the Reason header),
 * SIT tones and carrier announcements (空号 empty number, 停机 suspended, 无法接通 unreachable). Predictive dialing
 * must filter these before an agent ever hears them. Numbers get reassigned and phones come back on, so every
 * reason carries an expiry; a learned entry is a memory keyed by E.164, not a verdict for ever.
 */

export const InvalidReasons = ['unallocated', 'number-changed', 'suspended', 'unreachable', 'barred'] as const
export type InvalidReason = (typeof InvalidReasons)[number]

export const EvidenceSources = ['sip', 'q850', 'sit', 'announcement', 'manual'] as const
export type EvidenceSource = (typeof EvidenceSources)[number]

export interface LearnedInvalid {
  e164: string
  reason: InvalidReason
  source: EvidenceSource
  learnedAt: number
  /** Epoch ms after which the entry no longer blocks; absent = until forgotten. */
  expiresAt?: number
  /** Raw evidence for the audit trail, e.g. "SIP 404 Not Found". */
  detail?: string
}

export interface InvalidNumberLookup {
  get(e164: string): LearnedInvalid | undefined
}

/** Telcordia SIT tone classes as a tone detector reports them. */
export const SitTones = ['vacant-code', 'intercept', 'reorder', 'no-circuit', 'ineffective-other'] as const
export type SitTone = (typeof SitTones)[number]

/** What the telephony side observed when a call failed; any subset may be present. */
export interface FailureEvidence {
  sipStatus?: number
  q850Cause?: number
  sit?: SitTone
  /** Transcript or keyword of an in-band announcement, in any language we know. */
  announcement?: string
}

const DAY = 86_400_000

/** How long each reason blocks by default. */
export const DefaultInvalidTtlMs: Readonly<Record<InvalidReason, number>> = {
  unallocated: 90 * DAY,
  'number-changed': 90 * DAY,
  suspended: 14 * DAY,
  barred: 14 * DAY,
  unreachable: 1 * DAY,
}

interface Classified {
  reason: InvalidReason
  source: EvidenceSource
  detail: string
}

const announcementRules: Array<[RegExp, InvalidReason]> = [
  [/空号|不存在|号码有误|vacant|not in service|no longer in service|does not exist|not a working number/i, 'unallocated'],
  [/已改号|改号|number (has )?changed/i, 'number-changed'],
  [/停机|欠费|暂停服务|suspended|disconnected/i, 'suspended'],
  [/呼入限制|限制呼入|barred|restricted/i, 'barred'],
  [/无法接通|不在服务区|关机|unreachable|switched off|out of (the )?service area|cannot be reached/i, 'unreachable'],
]

/** Classify failure evidence; undefined when it says nothing about the number itself (busy, no answer, 503 ...). */
export function classifyFailure(e: FailureEvidence): Classified | undefined {
  // Strongest evidence first: an explicit Q.850 cause, then the SIP status, then tones, then speech.
  switch (e.q850Cause) {
    case 1:
      return { reason: 'unallocated', source: 'q850', detail: 'Q.850 cause 1 unallocated number' }
    case 22:
      return { reason: 'number-changed', source: 'q850', detail: 'Q.850 cause 22 number changed' }
    case 28:
      return { reason: 'unallocated', source: 'q850', detail: 'Q.850 cause 28 invalid number format' }
    case 20:
      return { reason: 'unreachable', source: 'q850', detail: 'Q.850 cause 20 subscriber absent' }
    default:
      break
  }
  switch (e.sipStatus) {
    case 404:
      return { reason: 'unallocated', source: 'sip', detail: 'SIP 404 Not Found' }
    case 604:
      return { reason: 'unallocated', source: 'sip', detail: 'SIP 604 Does Not Exist Anywhere' }
    case 484:
      return { reason: 'unallocated', source: 'sip', detail: 'SIP 484 Address Incomplete' }
    case 410:
      return { reason: 'number-changed', source: 'sip', detail: 'SIP 410 Gone' }
    default:
      break
  }
  switch (e.sit) {
    case 'vacant-code':
      return { reason: 'unallocated', source: 'sit', detail: 'SIT vacant code' }
    case 'intercept':
      return { reason: 'number-changed', source: 'sit', detail: 'SIT intercept' }
    case 'ineffective-other':
      return { reason: 'unreachable', source: 'sit', detail: 'SIT ineffective other' }
    default:
      break // reorder / no-circuit are network congestion, not the number
  }
  if (typeof e.announcement === 'string' && e.announcement.length > 0) {
    const text = e.announcement.slice(0, 500)
    for (const [re, reason] of announcementRules) {
      if (re.test(text)) return { reason, source: 'announcement', detail: `announcement: ${text.slice(0, 80)}` }
    }
  }
  return undefined
}

/** Turn failure evidence into an entry to remember, with its expiry; undefined when nothing should be learned. */
export function learnFromFailure(
  e164: string,
  evidence: FailureEvidence,
  nowMs: number,
  ttlMs: Readonly<Partial<Record<InvalidReason, number>>> = DefaultInvalidTtlMs,
): LearnedInvalid | undefined {
  const c = classifyFailure(evidence)
  if (!c) return undefined
  const ttl = ttlMs[c.reason] ?? DefaultInvalidTtlMs[c.reason]
  const entry: LearnedInvalid = { e164, reason: c.reason, source: c.source, learnedAt: nowMs, detail: c.detail }
  if (Number.isFinite(ttl) && ttl > 0) entry.expiresAt = nowMs + ttl
  return entry
}

/** True while the entry still blocks at `nowMs`. */
export function isActive(entry: LearnedInvalid, nowMs: number): boolean {
  return entry.expiresAt === undefined || nowMs < entry.expiresAt
}

/** An in-memory book of learned-invalid numbers (tests, simulator, and the Redis adapter's snapshots). */
export class InvalidNumberMemory implements InvalidNumberLookup {
  private readonly entries = new Map<string, LearnedInvalid>()

  /** Keeps the entry that blocks longest when a number is learned twice. */
  learn(entry: LearnedInvalid): void {
    const prev = this.entries.get(entry.e164)
    const end = (x: LearnedInvalid): number => x.expiresAt ?? Number.POSITIVE_INFINITY
    if (!prev || end(entry) >= end(prev)) this.entries.set(entry.e164, entry)
  }

  forget(e164: string): void {
    this.entries.delete(e164)
  }

  get(e164: string): LearnedInvalid | undefined {
    return this.entries.get(e164)
  }
}
