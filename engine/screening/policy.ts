/**
 * A campaign's screening policy: what makes a lead dialable. Plain JSON so a campaign can carry it; every field has a
 * documented default (DEFAULT_SCREENING_POLICY) and a partial policy is completed with `resolveScreeningPolicy`.
 */
import type { AttemptCaps } from './attempt-caps.js'
import { compileCallingHours, Weekdays, type CallingHours, type CallingWindow, type CompiledCallingHours } from './calling-hours.js'
import { PhoneTypes, type PhoneType } from './number.js'

export interface ScreeningPolicy {
  /** Local calling hours of the lead. Default: 09:00-21:00 every day, no holidays (inside FCC/TSR 8-21 h). */
  callingHours: CallingHours
  /** Default: at most 10 attempts per lead in total, no rolling caps (set max24h: 3, max30d: 10 for CN carriers). */
  caps: AttemptCaps
  /** Minimum time between two attempts to the lead. Default 10 minutes. */
  minRecallGapMs: number
  /** No call within this time after an abandoned call (Ofcom: 72 h). Default 0 = off. */
  abandonLockoutMs: number
  /** Which DNC lists apply. Default: all. With any on, a missing DNC snapshot rejects (fail closed). */
  dnc: { global: boolean; campaign: boolean; prefix: boolean }
  /** Skip numbers learned invalid (SIP causes, SIT, announcements). Default true. */
  skipLearnedInvalid: boolean
  /** Only call numbers with recorded consent (China: 未明确同意的，视为拒绝). Default false. */
  requireConsent: boolean
  /** Number types never dialed. Default: premium-rate, toll-free, shared-cost, pager, voicemail. */
  blockedTypes: PhoneType[]
  /** ISO regions that may be dialed; undefined = any. */
  allowedRegions?: string[]
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** The same windows on every day of the week. */
export function everyDay(windows: readonly CallingWindow[]): CallingHours['weekly'] {
  return Object.fromEntries(Weekdays.map((d) => [d, windows.map((w) => ({ ...w }))])) as CallingHours['weekly']
}

const nineToNine = (): CallingHours['weekly'] => everyDay([{ start: '09:00', end: '21:00' }])

export const DEFAULT_SCREENING_POLICY: Readonly<ScreeningPolicy> = Object.freeze({
  callingHours: { weekly: nineToNine(), holidays: [] },
  caps: { maxTotal: 10 },
  minRecallGapMs: 10 * MINUTE,
  abandonLockoutMs: 0,
  dnc: { global: true, campaign: true, prefix: true },
  skipLearnedInvalid: true,
  requireConsent: false,
  blockedTypes: ['premium-rate', 'toll-free', 'shared-cost', 'pager', 'voicemail'] as PhoneType[],
})

/** US FCC/FTC TSR: 8 am to 9 pm at the called party's location. */
export const TSR_HOURS: CallingHours['weekly'] = everyDay([{ start: '08:00', end: '21:00' }])

/** Hours that respect the customer's rest (MISSION): office workers in the evening, older customers mid-morning. */
export const OFFICE_WORKER_HOURS: CallingHours['weekly'] = everyDay([{ start: '19:00', end: '21:00' }])
export const OLDER_CUSTOMER_HOURS: CallingHours['weekly'] = everyDay([{ start: '09:00', end: '11:00' }])

/** Chinese carriers intercept above 3 calls per callee per 24 h and 10 per 30 days (pacing-anchors 3.3). */
export const CN_CARRIER_CAPS: AttemptCaps = { max24h: 3, max30d: 10 }

/** "At most twice a week per customer" (MISSION), with a total cap. */
export const TWICE_A_WEEK_CAPS: AttemptCaps = { maxTotal: 10, max7d: 2 }

/** The Ofcom option: no repeat call for 72 hours after an abandoned one. */
export const OFCOM_ABANDON_LOCKOUT_MS = 72 * HOUR

export type ScreeningPolicyInput = Partial<Omit<ScreeningPolicy, 'callingHours' | 'dnc' | 'caps'>> & {
  callingHours?: Partial<CallingHours>
  dnc?: Partial<ScreeningPolicy['dnc']>
  caps?: AttemptCaps
}

/** Complete a partial policy with the defaults. `caps` given replaces the default caps as a whole. */
export function resolveScreeningPolicy(input: ScreeningPolicyInput = {}): ScreeningPolicy {
  const d = DEFAULT_SCREENING_POLICY
  const policy: ScreeningPolicy = {
    callingHours: {
      weekly: input.callingHours?.weekly ?? nineToNine(),
      holidays: input.callingHours?.holidays ?? [],
    },
    caps: input.caps ?? { ...d.caps },
    minRecallGapMs: input.minRecallGapMs ?? d.minRecallGapMs,
    abandonLockoutMs: input.abandonLockoutMs ?? d.abandonLockoutMs,
    dnc: { ...d.dnc, ...input.dnc },
    skipLearnedInvalid: input.skipLearnedInvalid ?? d.skipLearnedInvalid,
    requireConsent: input.requireConsent ?? d.requireConsent,
    blockedTypes: input.blockedTypes ?? [...d.blockedTypes],
  }
  if (input.allowedRegions !== undefined) policy.allowedRegions = input.allowedRegions
  return policy
}

export interface CompiledPolicy {
  policy: ScreeningPolicy
  hours: CompiledCallingHours
}

const nonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0
const isCount = (v: unknown): boolean => v === undefined || (Number.isInteger(v) && (v as number) >= 0)

/** Check a policy (it may come from JSON) and precompute its calling hours; problems are listed, never thrown. */
export function compilePolicy(policy: unknown): { ok: true; compiled: CompiledPolicy } | { ok: false; errors: string[] } {
  if (typeof policy !== 'object' || policy === null) return { ok: false, errors: ['policy must be an object'] }
  const p = policy as Partial<Record<keyof ScreeningPolicy, unknown>>
  const errors: string[] = []
  const hours = compileCallingHours(p.callingHours)
  if (!hours.ok) errors.push(...hours.errors)
  const caps = (typeof p.caps === 'object' && p.caps !== null ? p.caps : undefined) as Record<string, unknown> | undefined
  if (!caps) errors.push('caps must be an object')
  else for (const k of ['maxTotal', 'max24h', 'max7d', 'max30d']) if (!isCount(caps[k])) errors.push(`caps.${k} must be a non-negative integer`)
  if (!nonNegative(p.minRecallGapMs)) errors.push('minRecallGapMs must be a non-negative number')
  if (!nonNegative(p.abandonLockoutMs)) errors.push('abandonLockoutMs must be a non-negative number')
  const dnc = p.dnc as Record<string, unknown> | undefined
  if (typeof dnc !== 'object' || dnc === null || !['global', 'campaign', 'prefix'].every((k) => typeof dnc[k] === 'boolean')) {
    errors.push('dnc must be {global, campaign, prefix} booleans')
  }
  if (typeof p.skipLearnedInvalid !== 'boolean') errors.push('skipLearnedInvalid must be a boolean')
  if (typeof p.requireConsent !== 'boolean') errors.push('requireConsent must be a boolean')
  if (!Array.isArray(p.blockedTypes) || !p.blockedTypes.every((t) => (PhoneTypes as readonly unknown[]).includes(t))) {
    errors.push(`blockedTypes must list phone types (${PhoneTypes.join(', ')})`)
  }
  if (p.allowedRegions !== undefined && (!Array.isArray(p.allowedRegions) || !p.allowedRegions.every((r) => typeof r === 'string'))) {
    errors.push('allowedRegions must be an array of ISO region codes')
  }
  if (errors.length > 0 || !hours.ok) return { ok: false, errors }
  return { ok: true, compiled: { policy: policy as ScreeningPolicy, hours: hours.hours } }
}
