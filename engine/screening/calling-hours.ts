/**
 * Calling hours in the lead's local time: per-weekday windows (several a day), holidays as local dates, evaluated in
 * one or more zones (a number whose zone is uncertain must be inside the window in every zone it may be in).
 * Finding the next allowed instant walks wall-clock time and corrects for DST with the zone's actual offsets, so a
 * retry time never lands in a spring-forward gap or an hour early after a fall-back.
 */
import { localTimeAt, wallDate, type LocalTime } from './local-time.js'

export const Weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Weekday = (typeof Weekdays)[number]

/** A window of local time, "HH:MM" to "HH:MM" (end exclusive, "24:00" allowed, end after start). */
export interface CallingWindow {
  start: string
  end: string
}

export interface CallingHours {
  /** Windows per weekday in the lead's local time; a day missing or empty means no calls that day. */
  weekly: Partial<Record<Weekday, CallingWindow[]>>
  /** Local dates ("YYYY-MM-DD", in the lead's calendar) on which no call is placed. */
  holidays: string[]
}

/** Windows as minutes of the day, sorted by start, per weekday index (0 = Sunday). */
export interface CompiledCallingHours {
  days: Array<Array<[number, number]>>
  holidays: ReadonlySet<string>
}

const hhmm = /^([01]\d|2[0-4]):([0-5]\d)$/
const isoDate = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/

function minutesOf(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined
  const m = hhmm.exec(s)
  if (!m) return undefined
  const v = Number(m[1]) * 60 + Number(m[2])
  return v <= 24 * 60 ? v : undefined
}

/** Validate and compile; returns the list of problems instead when the policy is malformed. */
export function compileCallingHours(hours: unknown): { ok: true; hours: CompiledCallingHours } | { ok: false; errors: string[] } {
  const errors: string[] = []
  if (typeof hours !== 'object' || hours === null) return { ok: false, errors: ['callingHours must be an object'] }
  const h = hours as { weekly?: unknown; holidays?: unknown }
  if (typeof h.weekly !== 'object' || h.weekly === null) errors.push('callingHours.weekly must be an object')
  const weekly = (typeof h.weekly === 'object' && h.weekly !== null ? h.weekly : {}) as Record<string, unknown>
  for (const key of Object.keys(weekly)) {
    if (!(Weekdays as readonly string[]).includes(key)) errors.push(`callingHours.weekly.${key}: not a weekday (${Weekdays.join(', ')})`)
  }
  const days: Array<Array<[number, number]>> = []
  Weekdays.forEach((wd) => {
    const list = weekly[wd]
    const out: Array<[number, number]> = []
    if (list !== undefined) {
      if (!Array.isArray(list)) errors.push(`callingHours.weekly.${wd} must be an array of windows`)
      else
        list.forEach((w: unknown, i) => {
          const win = (typeof w === 'object' && w !== null ? w : {}) as { start?: unknown; end?: unknown }
          const s = minutesOf(win.start)
          const e = minutesOf(win.end)
          if (s === undefined || e === undefined || e <= s) {
            errors.push(`callingHours.weekly.${wd}[${i}]: want {start:"HH:MM", end:"HH:MM"} with end after start`)
          } else out.push([s, e])
        })
    }
    days.push(out.sort((a, b) => a[0] - b[0]))
  })
  const holidays = new Set<string>()
  if (h.holidays !== undefined && !Array.isArray(h.holidays)) errors.push('callingHours.holidays must be an array')
  if (Array.isArray(h.holidays)) {
    h.holidays.forEach((d: unknown, i) => {
      if (typeof d === 'string' && isoDate.test(d)) holidays.add(d)
      else errors.push(`callingHours.holidays[${i}]: want "YYYY-MM-DD"`)
    })
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, hours: { days, holidays } }
}

export type HoursVerdict = 'ok' | 'holiday' | 'outside-hours'

/** Whether a local time is callable under the hours. */
export function hoursVerdict(hours: CompiledCallingHours, local: LocalTime): HoursVerdict {
  if (hours.holidays.has(local.date)) return 'holiday'
  const windows = hours.days[local.weekday] ?? []
  for (const [s, e] of windows) if (local.minuteOfDay >= s && local.minuteOfDay < e) return 'ok'
  return 'outside-hours'
}

function allowedIn(hours: CompiledCallingHours, zone: string, t: number): boolean {
  const lt = localTimeAt(t, zone)
  return lt !== undefined && hoursVerdict(hours, lt) === 'ok'
}

/** The wall-clock (fields-as-UTC) start of the next window strictly after `local`, or undefined within a year. */
function nextWindowStartWall(hours: CompiledCallingHours, local: LocalTime): number | undefined {
  const dayStart = Date.UTC(local.year, local.month - 1, local.day)
  for (let k = 0; k <= 370; k++) {
    const dayWall = dayStart + k * 86_400_000
    const date = wallDate(dayWall)
    if (hours.holidays.has(date)) continue
    const windows = hours.days[new Date(dayWall).getUTCDay()] ?? []
    for (const [s] of windows) {
      const start = dayWall + s * 60_000
      if (start > local.wallMs) return start
    }
  }
  return undefined
}

const MINUTE = 60_000

/**
 * Earliest instant >= fromMs allowed in one zone, or undefined if none within `horizonMs`. Jumping by wall-clock
 * distance is exact while the offset does not change; when it does (DST), the landing point is refined by a binary
 * search over minutes (offsets are whole minutes, so callability is constant within a UTC minute).
 */
export function nextAllowedInZone(hours: CompiledCallingHours, zone: string, fromMs: number, horizonMs: number): number | undefined {
  let t = fromMs
  for (let iter = 0; iter < 1000 && t - fromMs <= horizonMs; iter++) {
    const lt = localTimeAt(t, zone)
    if (!lt) return undefined
    if (hoursVerdict(hours, lt) === 'ok') return t
    const target = nextWindowStartWall(hours, lt)
    if (target === undefined) return undefined
    const next = t + (target - lt.wallMs)
    const ln = localTimeAt(next, zone)
    if (!ln) return undefined
    if (hoursVerdict(hours, ln) === 'ok') {
      if (ln.offsetMinutes === lt.offsetMinutes) return next
      return refine(hours, zone, t, next)
    }
    t = next
  }
  return undefined
}

/** lo not allowed, hi allowed: the first allowed minute boundary in (lo, hi], or hi. */
function refine(hours: CompiledCallingHours, zone: string, lo: number, hi: number): number {
  let kLo = Math.floor(lo / MINUTE)
  let kHi = Math.floor(hi / MINUTE)
  while (kHi - kLo > 1) {
    const mid = Math.floor((kLo + kHi) / 2)
    if (allowedIn(hours, zone, mid * MINUTE)) kHi = mid
    else kLo = mid
  }
  const candidate = kHi * MINUTE
  return candidate > lo && candidate <= hi && allowedIn(hours, zone, candidate) ? candidate : hi
}

/** Earliest instant >= fromMs allowed in every zone at once, or undefined within the horizon. */
export function nextAllowedInAll(
  hours: CompiledCallingHours,
  zones: readonly string[],
  fromMs: number,
  horizonMs = 400 * 86_400_000,
): number | undefined {
  let t = fromMs
  for (let iter = 0; iter < 64 * Math.max(1, zones.length); iter++) {
    let moved = false
    for (const z of zones) {
      const n = nextAllowedInZone(hours, z, t, fromMs + horizonMs - t)
      if (n === undefined) return undefined
      if (n > t) {
        t = n
        moved = true
      }
    }
    if (!moved) return t
  }
  return undefined
}
