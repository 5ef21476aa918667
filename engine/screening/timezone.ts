/**
 * Which time zone(s) a lead's calling hours are judged in.
 *
 * Rule, in order:
 * 1. the lead's own `timezone` field (a valid IANA name) - the customer's data beats anything inferred;
 *    an invalid name is an error, never silently replaced;
 * 2. the number's area code when it pins the zone(s) down (area-zones.ts: major US/Canadian area codes, China);
 * 3. every zone of the number's region (ICU/CLDR's list via Intl.Locale): a single-zone country gets its one zone,
 *    a multi-zone country (US area code not in the table, Russia, Brazil, Australia, ...) is judged in all of them,
 *    so a call happens only when it is inside the window everywhere the customer may be. That narrows the day for
 *    wide countries instead of ever calling someone at 6 am; fill the lead's time zone to get the full window.
 * Non-geographic numbers (+800, +882, ...) and regions ICU knows no zone for get no zone: screening rejects them.
 */
import { zonesForAreaCode } from './area-zones.js'
import { isValidTimeZone } from './local-time.js'
import type { PhoneInfo } from './number.js'

export type ZoneSource = 'lead' | 'area-code' | 'region'

export type ZoneResolution =
  | { ok: true; zones: string[]; source: ZoneSource }
  | { ok: false; code: 'invalid-timezone' | 'unknown-timezone'; reason: string }

const regionZoneCache = new Map<string, string[]>()

/** The zones ICU lists for a region ("CN" -> Asia/Shanghai, Asia/Urumqi), only names Intl accepts. */
export function zonesOfRegion(region: string): string[] {
  const cached = regionZoneCache.get(region)
  if (cached) return cached
  let zones: string[] = []
  try {
    const locale = new Intl.Locale(`und-${region}`) as Intl.Locale & {
      timeZones?: string[]
      getTimeZones?: () => string[] | undefined
    }
    zones = (locale.getTimeZones?.() ?? locale.timeZones ?? []).filter((z) => isValidTimeZone(z))
  } catch {
    zones = []
  }
  regionZoneCache.set(region, zones)
  return zones
}

export function resolveTimeZones(leadTimeZone: unknown, phone: PhoneInfo): ZoneResolution {
  if (leadTimeZone !== undefined && leadTimeZone !== null && leadTimeZone !== '') {
    if (isValidTimeZone(leadTimeZone)) return { ok: true, zones: [leadTimeZone], source: 'lead' }
    return {
      ok: false,
      code: 'invalid-timezone',
      reason: `lead time zone ${JSON.stringify(String(leadTimeZone).slice(0, 64))} is not an IANA time zone`,
    }
  }
  const byArea = zonesForAreaCode(phone.countryCallingCode, phone.nationalNumber)
  if (byArea) return { ok: true, zones: [...byArea], source: 'area-code' }
  const byRegion = phone.region ? zonesOfRegion(phone.region) : []
  if (byRegion.length > 0) return { ok: true, zones: byRegion, source: 'region' }
  return {
    ok: false,
    code: 'unknown-timezone',
    reason: phone.region
      ? `no time zone known for region ${phone.region}; set the lead's time zone`
      : `non-geographic number (+${phone.countryCallingCode}); set the lead's time zone`,
  }
}
