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
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
  } catch {
    return undefined
  }
  // The cache is bounded by the zones Intl accepts (a few hundred names and their aliases).
  formatters.set(timeZone, f)
  return f
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
  let year = 0
  let month = 0
  let day = 0
  let hour = 0
  let minute = 0
  let second = 0
  for (const part of f.formatToParts(instantMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value)
        break
      case 'month':
        month = Number(part.value)
        break
      case 'day':
        day = Number(part.value)
        break
      case 'hour':
        hour = Number(part.value)
        break
      case 'minute':
        minute = Number(part.value)
        break
      case 'second':
        second = Number(part.value)
        break
      default:
        break
    }
  }
  const subSecond = ((instantMs % 1000) + 1000) % 1000
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second) + subSecond
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    weekday: new Date(wallMs).getUTCDay(),
    date: wallDate(wallMs),
    minuteOfDay: hour * 60 + minute,
    offsetMinutes: Math.round((wallMs - instantMs) / 60_000),
    wallMs,
  }
}
