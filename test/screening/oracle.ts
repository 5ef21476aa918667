/**
 * Independent reference computations for the screening property tests: local time from a Swedish-locale formatter
 * (it prints "YYYY-MM-DD HH:MM:SS", parsed here as text), window checks from the policy's raw strings, caps counted the plain way.
 * None of this uses engine/screening code.
 */
import type { ScreeningPolicy } from '../../engine/screening/policy.js'

export interface OracleLocal {
  date: string
  weekday: number
  minuteOfDay: number
}

const svFormats = new Map<string, Intl.DateTimeFormat>()

export function oracleLocal(instantMs: number, zone: string): OracleLocal {
  let f = svFormats.get(zone)
  if (!f) {
    const o = { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' } as const
    svFormats.set(zone, (f = new Intl.DateTimeFormat('sv-SE', o)))
  }
  const s = f.format(instantMs)
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s)
  if (!m) throw new Error(`unexpected local time format ${s}`)
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]
  return { date: `${m[1]}-${m[2]}-${m[3]}`, weekday: new Date(Date.UTC(y, mo - 1, d)).getUTCDay(), minuteOfDay: h * 60 + mi }
}

const dayKeys = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const toMin = (s: string): number => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5))

export function oracleAllowedIn(policy: ScreeningPolicy, instantMs: number, zone: string): boolean {
  const l = oracleLocal(instantMs, zone)
  if (policy.callingHours.holidays.includes(l.date)) return false
  const windows = policy.callingHours.weekly[dayKeys[l.weekday]!] ?? []
  return windows.some((w) => l.minuteOfDay >= toMin(w.start) && l.minuteOfDay < toMin(w.end))
}

export function oracleAllowedInAll(policy: ScreeningPolicy, instantMs: number, zones: readonly string[]): boolean {
  return zones.every((z) => oracleAllowedIn(policy, instantMs, z))
}

const DAY = 86_400_000

/** Every cap, gap and lockout rule that forbids a call at `now`, by the book (a zero gap or lockout is off). */
export function oracleCountViolations(
  policy: ScreeningPolicy,
  attempts: readonly number[],
  lastAbandonedAt: number | undefined,
  now: number,
): string[] {
  const v: string[] = []
  const c = policy.caps
  if (c.maxTotal !== undefined && attempts.length >= c.maxTotal) v.push('attempt-cap-total')
  const inLast = (w: number): number => attempts.filter((a) => now - a < w).length
  if (c.max24h !== undefined && inLast(DAY) >= c.max24h) v.push('attempt-cap-24h')
  if (c.max7d !== undefined && inLast(7 * DAY) >= c.max7d) v.push('attempt-cap-7d')
  if (c.max30d !== undefined && inLast(30 * DAY) >= c.max30d) v.push('attempt-cap-30d')
  if (policy.minRecallGapMs > 0 && attempts.length > 0 && now - Math.max(...attempts) < policy.minRecallGapMs) v.push('recall-gap')
  if (policy.abandonLockoutMs > 0 && lastAbandonedAt !== undefined && now - lastAbandonedAt < policy.abandonLockoutMs) v.push('abandon-lockout')
  return v
}
