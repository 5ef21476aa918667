/**
 * Phone numbers of an import to E.164, cheaply. libphonenumber's max metadata costs ~100 us a parse: a million-row
 * import cannot parse every row. Mainland China mobiles (11 digits starting with 1, as "13812345678" with region CN or
 * "+86 138 1234 5678"), the bulk of our imports, take a fast path: CN mobile validity depends only on the leading
 * digits (the metadata's mobile pattern reads at most 5, then a fixed count of any digit), so libphonenumber decides
 * once per 7-digit prefix and the answer is reused for every number under it. Everything else (other countries,
 * other formats, numbers the prefix's verdict rejects) goes to parsePhone, the screening's own parser, unchanged, so
 * the bad-row reasons are its reasons. Other mainland China numbers written nationally with the trunk 0
 * ("010 6552 9988", region CN) or in E.164 ("+86 755 8888 1234") take a second cached path: CN fixed-line and
 * service patterns also decide on at most the first 7 digits of the national number and its length (then a fixed
 * count of any digit), so libphonenumber's verdict is kept per (form, length, 7-digit prefix), reused only when it
 * was "valid, and the E.164 form is +86 and these very digits". test/store/sql/lead-number-normalizer.test.ts checks
 * both paths against parsePhone on random numbers.
 */
import { parsePhone, type PhoneParseResult } from '../../screening/number.js'

export type NormalizedNumber = { ok: true; e164: string; region: string | undefined } | Extract<PhoneParseResult, { ok: false }>

const PrefixDigits = 7
const MaxPrefixes = 100_000
const Separators = /[\s-]/g
const PlainNumber = /^\+?[\d\s-]+$/
const Digits = /^\d+$/

/**
 * A copy of `s` that holds no reference to the text it was cut from. The CSV reader's cells are V8 slices of a 64 KiB
 * chunk; one kept in a long-lived cache (parsePhone's) keeps its whole chunk alive: a million-row import with 1% bad
 * numbers held ~22 MiB of chunks that way.
 */
export function detachedCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8')
}

export class LeadNumberNormalizer {
  /** CN mobile prefix (first 7 of the 11 digits) to libphonenumber's verdict: the region, or null when not valid. */
  private readonly cnPrefixes = new Map<string, string | null>()
  /** Other CN numbers: `<form><length>:<7-digit prefix>` to libphonenumber's verdict, as cnPrefixes. */
  private readonly cnOtherPrefixes = new Map<string, string | null>()

  /** `region`: the row's or the import's region hint, upper-case ISO alpha-2. */
  normalize(raw: string, region: string | undefined): NormalizedNumber {
    const fast = this.cnMobile(raw, region) ?? this.cnOther(raw, region)
    if (fast !== undefined) return fast
    // The slow path is ~100 us a number; the copy is nothing beside it and keeps parsePhone's cache off our chunks.
    const parsed = parsePhone(detachedCopy(raw), region)
    return parsed.ok ? { ok: true, e164: parsed.phone.e164, region: parsed.phone.region } : parsed
  }

  private cnMobile(raw: string, region: string | undefined): NormalizedNumber | undefined {
    let s = raw
    if (!Digits.test(s)) {
      if (!PlainNumber.test(s)) return undefined
      s = s.replace(Separators, '')
    }
    let nsn: string
    if (s.length === 11 && region === 'CN' && s.charCodeAt(0) === 49 /* 1 */ && Digits.test(s)) nsn = s
    else if (s.length === 14 && s.startsWith('+861') && Digits.test(s.slice(1))) nsn = s.slice(3)
    else return undefined
    const prefix = nsn.slice(0, PrefixDigits)
    let verdict = this.cnPrefixes.get(prefix)
    if (verdict === undefined) {
      const parsed = parsePhone(`+86${nsn}`)
      verdict = parsed.ok && parsed.phone.countryCallingCode === '86' && parsed.phone.nationalNumber === nsn ? (parsed.phone.region ?? null) : null
      if (this.cnPrefixes.size >= MaxPrefixes) this.cnPrefixes.clear()
      this.cnPrefixes.set(prefix, verdict)
    }
    // A prefix libphonenumber rejects: let parsePhone say why for this very number.
    if (verdict === null) return undefined
    return { ok: true, e164: `+86${nsn}`, region: verdict }
  }

  /** CN numbers other than the 11-digit mobiles: national with the trunk 0 and region CN, or +86 and the number. */
  private cnOther(raw: string, region: string | undefined): NormalizedNumber | undefined {
    let s = raw
    if (!Digits.test(s)) {
      if (!PlainNumber.test(s)) return undefined
      s = s.replace(Separators, '')
    }
    let nsn: string
    let form: string
    if (region === 'CN' && s.length >= 8 && s.length <= 12 && s.charCodeAt(0) === 48 /* 0 */ && s.charCodeAt(1) !== 48 && Digits.test(s)) {
      nsn = s.slice(1)
      form = 'n'
    } else if (s.length >= 10 && s.length <= 14 && s.startsWith('+86') && s.charCodeAt(3) !== 48 && Digits.test(s.slice(1))) {
      nsn = s.slice(3)
      form = 'e'
    } else {
      return undefined
    }
    const key = `${form}${nsn.length}:${nsn.slice(0, PrefixDigits)}`
    let verdict = this.cnOtherPrefixes.get(key)
    if (verdict === undefined) {
      // parsePhone caches what it is given: a copy, not a slice of the reader's chunk (see detachedCopy).
      const parsed = form === 'n' ? parsePhone(detachedCopy(s), 'CN') : parsePhone(detachedCopy(s))
      verdict = parsed.ok && parsed.phone.e164 === `+86${nsn}` ? (parsed.phone.region ?? null) : null
      if (this.cnOtherPrefixes.size >= MaxPrefixes) this.cnOtherPrefixes.clear()
      this.cnOtherPrefixes.set(detachedCopy(key), verdict)
    }
    if (verdict === null) return undefined
    return { ok: true, e164: `+86${nsn}`, region: verdict }
  }
}
