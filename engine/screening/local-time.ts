/**
 * Wall-clock time in an IANA time zone, computed with Intl (the tz database that ships with Node's ICU), so DST and
 * historical offset changes are right without a tz library. Pure: the instant is always passed in.
 */

export interface LocalTime {
  year: number
  /** 1-12 */
  month: number
  /** 1-31 */
  day: number
  hour: number
  minute: number
  second: number
  /** 0 = Sunday ... 6 = Saturday */
  weekday: number
  /** "YYYY-MM-DD" in the zone's calendar (holidays are written this way). */
  date: string
  /** hour * 60 + minute */
  minuteOfDay: number
  /** Local minus UTC, in minutes, at this instant (e.g. +480 for Asia/Shanghai). */
  offsetMinutes: number
  /** The same wall-clock fields read as if they were UTC (epoch ms): the basis of calendar arithmetic. */
  wallMs: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(timeZone)
  if (f) return f
  try {
    // "longOffset" prints only the offset ("GMT+08:00", "GMT-04:00", "GMT"): the cheapest thing Intl can tell us.
    f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
  } catch {
    return undefined
  }
  // The cache is bounded by the zones Intl accepts (a few hundred names and their aliases).
  formatters.set(timeZone, f)
  return f
}

const OFFSET = /GMT([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?/

/** Local minus UTC in ms at an instant, straight from Intl. */
function offsetFromIntl(f: Intl.DateTimeFormat, instantMs: number): number {
  const m = OFFSET.exec(f.format(instantMs))
  if (!m) return 0 // "GMT": UTC itself
  const ms = (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) * 1000
  return m[1] === '-' ? -ms : ms
}

const HOUR_MS = 3_600_000
const MAX_CACHED_HOURS = 4096
/** Per zone: UTC hour -> offset, for hours whose offset is the same at both ends (no transition inside). */
const offsetCache = new Map<string, Map<number, number>>()

/**
 * Offset of a zone at an instant. Offsets change at most a few times a year and never twice within an hour, so an
 * hour whose start and end share an offset has it throughout; such hours are cached, an hour holding a transition is
 * asked of Intl every time. Intl formatting costs microseconds, and screening asks for the same hours over and over.
 */
function offsetAt(f: Intl.DateTimeFormat, timeZone: string, instantMs: number): number {
  const hour = Math.floor(instantMs / HOUR_MS)
  let zoneCache = offsetCache.get(timeZone)
  const hit = zoneCache?.get(hour)
  if (hit !== undefined) return hit
  const start = offsetFromIntl(f, hour * HOUR_MS)
  const end = offsetFromIntl(f, hour * HOUR_MS + HOUR_MS - 1)
  if (start !== end) return offsetFromIntl(f, instantMs)
  if (!zoneCache) offsetCache.set(timeZone, (zoneCache = new Map()))
  if (zoneCache.size >= MAX_CACHED_HOURS) zoneCache.clear()
  zoneCache.set(hour, start)
  return start
}

/** True when Intl knows the zone name (IANA names and aliases; fixed "UTC"/"Etc/GMT+5" too). */
export function isValidTimeZone(timeZone: unknown): timeZone is string {
  return typeof timeZone === 'string' && timeZone.length > 0 && timeZone.length < 64 && formatterFor(timeZone) !== undefined
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** "YYYY-MM-DD" of a wall-clock epoch (fields read as UTC). */
export function wallDate(wallMs: number): string {
  const d = new Date(wallMs)
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`
}

/** Local wall time of an instant in a zone; undefined when the zone is unknown or the instant is not finite. */
export function localTimeAt(instantMs: number, timeZone: string): LocalTime | undefined {
  if (!Number.isFinite(instantMs)) return undefined
  const f = formatterFor(timeZone)
  if (!f) return undefined
  const offsetMs = offsetAt(f, timeZone, instantMs)
  const wallMs = instantMs + offsetMs
  const d = new Date(wallMs)
  const year = d.getUTCFullYear()
  const month = d.getUTCMonth() + 1
  const day = d.getUTCDate()
  const hour = d.getUTCHours()
  const minute = d.getUTCMinutes()
  const second = d.getUTCSeconds()
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    weekday: d.getUTCDay(),
    date: wallDate(wallMs),
    minuteOfDay: hour * 60 + minute,
    offsetMinutes: Math.round(offsetMs / 60_000),
    wallMs,
  }
}
