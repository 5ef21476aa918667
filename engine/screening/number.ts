/**
 * Phone number parsing and typing for screening. libphonenumber-js with its `max` metadata is the one source of
 * truth: only the max set tells mobile from fixed line for regions that number them apart (mainland China 1[3-9]x
 * mobiles vs 0xx area-code fixed lines, the UK, ...). Parsing never throws: bad input comes back as a reason.
 */
import { parsePhoneNumberFromString, isSupportedCountry } from 'libphonenumber-js/max'
import type { CountryCode, NumberType } from 'libphonenumber-js/max'

export const PhoneTypes = [
  'mobile',
  'fixed-line',
  'fixed-line-or-mobile',
  'toll-free',
  'premium-rate',
  'shared-cost',
  'voip',
  'personal',
  'pager',
  'uan',
  'voicemail',
  'unknown',
] as const
export type PhoneType = (typeof PhoneTypes)[number]

export interface PhoneInfo {
  /** +<country code><national number>, e.g. "+8613812345678". */
  e164: string
  /** ISO 3166-1 alpha-2 of the number's region; undefined for non-geographic numbers (+800, +882 ...). */
  region: string | undefined
  countryCallingCode: string
  nationalNumber: string
  type: PhoneType
}

export type PhoneParseErrorCode = 'invalid-format' | 'invalid-number'

export type PhoneParseResult =
  | { ok: true; phone: PhoneInfo }
  | { ok: false; code: PhoneParseErrorCode; reason: string }

const typeNames: Record<NumberType & string, PhoneType> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed-line',
  FIXED_LINE_OR_MOBILE: 'fixed-line-or-mobile',
  TOLL_FREE: 'toll-free',
  PREMIUM_RATE: 'premium-rate',
  SHARED_COST: 'shared-cost',
  VOIP: 'voip',
  PERSONAL_NUMBER: 'personal',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
}

/** A region hint is only used when libphonenumber knows it; anything else is ignored rather than thrown on. */
function regionHint(hint: unknown): CountryCode | undefined {
  if (typeof hint !== 'string') return undefined
  const upper = hint.trim().toUpperCase()
  return /^[A-Z]{2}$/.test(upper) && isSupportedCountry(upper) ? (upper as CountryCode) : undefined
}

/**
 * Parse a number as given (international "+86 138 ...", "008613...", or national "138...", "010 6552 9988" with a
 * region hint) into its E.164 form and type.
 */
export function parsePhone(raw: unknown, region?: unknown): PhoneParseResult {
  if (typeof raw !== 'string') return { ok: false, code: 'invalid-format', reason: 'no phone number given' }
  // libphonenumber's max metadata costs ~100-200 us a parse and the dial loop screens the same leads again and again.
  const key = `${typeof region === 'string' ? region : ''}|${raw}`
  const hit = parseCache.get(key)
  if (hit) return hit.ok ? { ok: true, phone: { ...hit.phone } } : { ...hit }
  const result = parseUncached(raw, region)
  if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value as string)
  parseCache.set(key, result)
  return result.ok ? { ok: true, phone: { ...result.phone } } : { ...result }
}

const PARSE_CACHE_SIZE = 20_000
/** Bounded, insertion-ordered: the oldest entry goes first (parsing is pure, so a cached answer is the answer). */
const parseCache = new Map<string, PhoneParseResult>()

function parseUncached(raw: string, region: unknown): PhoneParseResult {
  if (raw.trim() === '') {
    return { ok: false, code: 'invalid-format', reason: 'no phone number given' }
  }
  if (raw.length > 64) return { ok: false, code: 'invalid-format', reason: 'phone number longer than 64 characters' }
  const hint = regionHint(region)
  let parsed: ReturnType<typeof parsePhoneNumberFromString>
  try {
    parsed = hint ? parsePhoneNumberFromString(raw, { defaultCountry: hint }) : parsePhoneNumberFromString(raw)
  } catch (err) {
    return { ok: false, code: 'invalid-format', reason: `unparseable phone number (${String(err)})` }
  }
  if (!parsed) {
    const national = !raw.trim().startsWith('+')
    return {
      ok: false,
      code: 'invalid-format',
      reason:
        national && !hint
          ? 'national-format number without a known region hint'
          : 'not a phone number (no country code and digits could be read)',
    }
  }
  if (!parsed.isValid()) {
    return {
      ok: false,
      code: 'invalid-number',
      reason: `${parsed.isPossible() ? 'no such number range' : 'wrong length'} for +${parsed.countryCallingCode}${
        parsed.country ? ` (${parsed.country})` : ''
      }`,
    }
  }
  const t = parsed.getType()
  return {
    ok: true,
    phone: {
      e164: parsed.number,
      region: parsed.country,
      countryCallingCode: parsed.countryCallingCode,
      nationalNumber: parsed.nationalNumber,
      type: t ? typeNames[t] : 'unknown',
    },
  }
}

/** The E.164 form of a number, or undefined when it does not parse: what DNC and learned-invalid lookups key on. */
export function e164Of(raw: unknown, region?: unknown): string | undefined {
  const r = parsePhone(raw, region)
  return r.ok ? r.phone.e164 : undefined
}
