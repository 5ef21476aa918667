/**
 * screen(): may this lead be dialed at this instant? Applied just in time at dial, pure (the instant and every
 * lookup are passed in), and total: bad input of any kind becomes a rejection with a reason, never an exception.
 * A rejection lists every reason that applies, each with a machine-readable code and, when time clears it, the
 * earliest instant it does; `retryAt` on the result is the earliest instant when all of them clear at once.
 */
import { checkAttemptCaps } from './attempt-caps.js'
import { hoursVerdict, nextAllowedInAll, type CompiledCallingHours } from './calling-hours.js'
import type { ConsentLookup } from './consent.js'
import type { DncLookup } from './dnc.js'
import { isActive, type InvalidNumberLookup } from './invalid-numbers.js'
import { localTimeAt, type LocalTime } from './local-time.js'
import { parsePhone, type PhoneInfo } from './number.js'
import { compilePolicy, type ScreeningPolicy } from './policy.js'
import { checkAbandonLockout, checkRecallGap } from './recall-gap.js'
import type { Rejection } from './rejection.js'
import { resolveTimeZones, type ZoneSource } from './timezone.js'

/** What screening reads about a lead (a subset of engine/leads/lead.ts `Lead`). */
export interface ScreenableLead {
  id?: string
  campaignId: string
  phone: string
  timezone?: string
  region?: string
  status?: string
  attemptTimes: readonly number[]
  lastAbandonedAt?: number
}

export interface ScreenContext {
  /** DNC snapshot covering this lead's number. Required while any DNC list is on in the policy (fail closed). */
  dnc?: DncLookup
  /** Learned-invalid numbers; without it the check is skipped (it saves agent time, it is not a legal rule). */
  invalidNumbers?: InvalidNumberLookup
  /** Required when the policy requires consent (fail closed). */
  consent?: ConsentLookup
  /**
   * Attempts to the same number outside this lead (other campaigns, other lists), excluding the lead's own
   * `attemptTimes`: counted by the caps and the gap.
   */
  otherAttemptTimes?: readonly number[]
}

export interface ScreenOk {
  ok: true
  e164: string
  phone: PhoneInfo
  /** The zone the local time is given in (the first of `timeZones`). */
  timeZone: string
  /** Every zone the hours were checked in (several when the number's zone is uncertain). */
  timeZones: string[]
  timeZoneSource: ZoneSource
  localTime: LocalTime
  /** If the call is placed now, the earliest instant the next attempt could be (caps, gap, hours); absent = never. */
  nextAttemptAt?: number
}

export interface ScreenRejected {
  ok: false
  rejections: Rejection[]
  /** Present once the number parsed. */
  e164?: string
  /** Earliest instant at which every rejection clears together; absent when one of them does not clear with time. */
  retryAt?: number
}

export type ScreenResult = ScreenOk | ScreenRejected

const rejected = (rejections: Rejection[], e164?: string, retryAt?: number): ScreenRejected => {
  const r: ScreenRejected = { ok: false, rejections }
  if (e164 !== undefined) r.e164 = e164
  if (retryAt !== undefined) r.retryAt = retryAt
  return r
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function fmtLocal(lt: LocalTime | undefined, zone: string): string {
  if (!lt) return zone
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${lt.date} ${p(lt.hour)}:${p(lt.minute)} ${zone}`
}

interface TimeState {
  policy: ScreeningPolicy
  hours: CompiledCallingHours
  zones: string[]
  attempts: readonly number[]
  lastAbandonedAt: number | undefined
  invalidUntil: number | undefined
  invalidDetail: string
}

/** Every rejection that depends on the instant `t` (hours, rolling caps, gap, lockout, learned-invalid expiry). */
function timeRejections(s: TimeState, t: number): Rejection[] {
  const out: Rejection[] = []
  let hoursVerdictAt: 'ok' | 'holiday' | 'outside-hours' = 'ok'
  let where = ''
  for (const z of s.zones) {
    const lt = localTimeAt(t, z)
    const v = lt ? hoursVerdict(s.hours, lt) : 'outside-hours'
    if (v !== 'ok' && (hoursVerdictAt === 'ok' || v === 'holiday')) {
      hoursVerdictAt = v
      where = fmtLocal(lt, z)
    }
  }
  if (hoursVerdictAt !== 'ok') {
    const r: Rejection = {
      code: hoursVerdictAt,
      detail: hoursVerdictAt === 'holiday' ? `holiday at the lead's local date (${where})` : `outside calling hours at ${where}`,
    }
    const next = nextAllowedInAll(s.hours, s.zones, t)
    if (next !== undefined) r.retryAt = next
    out.push(r)
  }
  out.push(...checkAttemptCaps(s.policy.caps, s.attempts, t))
  const gap = checkRecallGap(s.policy.minRecallGapMs, s.attempts[s.attempts.length - 1], t)
  if (gap) out.push(gap)
  const lockout = checkAbandonLockout(s.policy.abandonLockoutMs, s.lastAbandonedAt, t)
  if (lockout) out.push(lockout)
  if (s.invalidUntil !== undefined && t < s.invalidUntil) {
    const r: Rejection = { code: 'learned-invalid', detail: s.invalidDetail }
    if (Number.isFinite(s.invalidUntil)) r.retryAt = s.invalidUntil
    out.push(r)
  }
  return out
}

/** The earliest instant >= t at which no time-based rule rejects, or undefined if one never clears. */
function earliestClear(s: TimeState, t0: number): number | undefined {
  let t = t0
  for (let i = 0; i < 64; i++) {
    const rs = timeRejections(s, t)
    if (rs.length === 0) return t
    let next = t
    for (const r of rs) {
      if (r.retryAt === undefined) return undefined
      next = Math.max(next, r.retryAt)
    }
    if (next <= t) return undefined
    t = next
  }
  return undefined
}

function readAttempts(lead: ScreenableLead, context: ScreenContext): number[] | string {
  if (!Array.isArray(lead.attemptTimes)) return 'attemptTimes is not an array'
  const other = context.otherAttemptTimes ?? []
  if (!Array.isArray(other)) return 'otherAttemptTimes is not an array'
  const all = [...lead.attemptTimes, ...other]
  if (!all.every(isFiniteNumber)) return 'attempt times must be finite epoch ms'
  // No de-duplication: two attempts in the same millisecond are still two attempts.
  return all.sort((a, b) => a - b)
}

export function screen(lead: ScreenableLead, context: ScreenContext, policy: ScreeningPolicy, nowMs: number): ScreenResult {
  try {
    return screenUnsafe(lead, context ?? {}, policy, nowMs)
  } catch (err) {
    // A lookup supplied by the caller threw: never let it through, never crash the dial loop.
    return rejected([{ code: 'invalid-lead', detail: `screening failed: ${err instanceof Error ? err.message : String(err)}` }])
  }
}

function screenUnsafe(lead: ScreenableLead, context: ScreenContext, policy: ScreeningPolicy, nowMs: number): ScreenResult {
  const compiled = compilePolicy(policy)
  if (!compiled.ok) return rejected([{ code: 'invalid-policy', detail: compiled.errors.join('; ') }])
  const { hours } = compiled.compiled
  if (!isFiniteNumber(nowMs)) return rejected([{ code: 'invalid-clock', detail: 'the current time is not a finite epoch ms' }])
  if (typeof lead !== 'object' || lead === null) return rejected([{ code: 'invalid-lead', detail: 'lead is not an object' }])
  if (typeof lead.campaignId !== 'string') return rejected([{ code: 'invalid-lead', detail: 'lead has no campaignId' }])

  const rejections: Rejection[] = []
  if (lead.status === 'dnc') rejections.push({ code: 'lead-dnc', detail: 'lead is marked do-not-call' })
  if (lead.status === 'refused') rejections.push({ code: 'lead-refused', detail: 'customer refused further calls' })

  const attempts = readAttempts(lead, context)
  if (typeof attempts === 'string') rejections.push({ code: 'invalid-lead', detail: attempts })
  if (lead.lastAbandonedAt !== undefined && !isFiniteNumber(lead.lastAbandonedAt)) {
    rejections.push({ code: 'invalid-lead', detail: 'lastAbandonedAt must be a finite epoch ms' })
  }

  const parsed = parsePhone(lead.phone, lead.region)
  if (!parsed.ok) return rejected([...rejections, { code: parsed.code, detail: parsed.reason }])
  const phone = parsed.phone
  const e164 = phone.e164

  if (policy.blockedTypes.includes(phone.type)) {
    rejections.push({ code: 'number-type', detail: `${phone.type} numbers are not dialed by this campaign` })
  }
  if (policy.allowedRegions && !(phone.region && policy.allowedRegions.includes(phone.region))) {
    rejections.push({
      code: 'region-not-allowed',
      detail: `region ${phone.region ?? `non-geographic +${phone.countryCallingCode}`} is not in ${policy.allowedRegions.join(', ')}`,
    })
  }

  const dnc = context.dnc
  if (policy.dnc.global || policy.dnc.campaign || policy.dnc.prefix) {
    if (!dnc) rejections.push({ code: 'dnc-unavailable', detail: 'no DNC snapshot for this number; not dialing unchecked' })
    else {
      if (policy.dnc.global && dnc.isGlobal(e164)) rejections.push({ code: 'dnc-global', detail: 'number is on the global DNC list' })
      if (policy.dnc.campaign && dnc.isCampaign(lead.campaignId, e164)) {
        rejections.push({ code: 'dnc-campaign', detail: "number is on the campaign's DNC list" })
      }
      if (policy.dnc.prefix) {
        const m = dnc.prefixMatch(lead.campaignId, e164)
        if (m) rejections.push({ code: 'dnc-prefix', detail: `number is in the DNC range ${m.prefix}* (${m.scope})` })
      }
    }
  }

  if (policy.requireConsent && !(context.consent?.hasConsent(lead.campaignId, e164) ?? false)) {
    rejections.push({ code: 'no-consent', detail: 'no recorded consent to be called' })
  }

  let invalidUntil: number | undefined
  let invalidDetail = ''
  if (policy.skipLearnedInvalid && context.invalidNumbers) {
    const entry = context.invalidNumbers.get(e164)
    if (entry && isActive(entry, nowMs)) {
      invalidUntil = entry.expiresAt ?? Number.POSITIVE_INFINITY
      invalidDetail = `learned ${entry.reason} from ${entry.source}${entry.detail ? ` (${entry.detail})` : ''}`
    }
  }

  const zones = resolveTimeZones(lead.timezone, phone)
  if (!zones.ok) rejections.push({ code: zones.code, detail: zones.reason })

  if (!zones.ok || typeof attempts === 'string') {
    // Without a zone or a readable history the time rules cannot be judged; what we have is enough to refuse.
    return rejected(rejections, e164)
  }

  const state: TimeState = {
    policy,
    hours,
    zones: zones.zones,
    attempts,
    lastAbandonedAt: lead.lastAbandonedAt,
    invalidUntil,
    invalidDetail,
  }
  const timed = timeRejections(state, nowMs)
  if (rejections.length > 0 || timed.length > 0) {
    const all = [...rejections, ...timed]
    const clears = rejections.length === 0 ? earliestClear(state, nowMs) : undefined
    return rejected(all, e164, clears)
  }

  const zone = zones.zones[0]!
  const localTime = localTimeAt(nowMs, zone)!
  const ok: ScreenOk = {
    ok: true,
    e164,
    phone,
    timeZone: zone,
    timeZones: zones.zones,
    timeZoneSource: zones.source,
    localTime,
  }
  const after: TimeState = { ...state, attempts: [...attempts, nowMs] }
  if (!(policy.caps.maxTotal !== undefined && after.attempts.length >= policy.caps.maxTotal)) {
    const next = earliestClear(after, nowMs)
    if (next !== undefined) ok.nextAttemptAt = next
  }
  return ok
}
