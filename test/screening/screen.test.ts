import t from 'tap'
import { screen, type ScreenableLead, type ScreenContext } from '../../engine/screening/screen.js'
import {
  resolveScreeningPolicy,
  DEFAULT_SCREENING_POLICY,
  OFCOM_ABANDON_LOCKOUT_MS,
  OLDER_CUSTOMER_HOURS,
  OFFICE_WORKER_HOURS,
  TSR_HOURS,
  CN_CARRIER_CAPS,
  TWICE_A_WEEK_CAPS,
} from '../../engine/screening/policy.js'
import { MemoryDncList } from '../../engine/screening/dnc.js'
import { InvalidNumberMemory, learnFromFailure } from '../../engine/screening/invalid-numbers.js'
import type { Lead } from '../../engine/leads/lead.js'

const iso = (s: string): number => Date.parse(s)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const policy = resolveScreeningPolicy()
const ctx = (): ScreenContext => ({ dnc: new MemoryDncList() })
const lead = (over: Partial<ScreenableLead> = {}): ScreenableLead => ({ campaignId: 'camp', phone: '13812345678', region: 'CN', attemptTimes: [], ...over })
const codes = (r: ReturnType<typeof screen>): string[] => (r.ok ? [] : r.rejections.map((x) => x.code).sort())
// 2026-06-01 is a Monday; 02:00Z is 10:00 in Beijing.
const beijing10am = iso('2026-06-01T02:00:00Z')

t.test('a Lead from engine/leads is screenable as is', async (t) => {
  const l: Lead = { id: 'l1', campaignId: 'camp', phone: '+8613812345678', status: 'new', attemptTimes: [] }
  const r = screen(l, ctx(), policy, beijing10am)
  t.ok(r.ok)
  if (r.ok) {
    t.equal(r.e164, '+8613812345678')
    t.equal(r.timeZone, 'Asia/Shanghai')
    t.equal(r.timeZoneSource, 'area-code')
    t.equal(r.localTime.hour, 10)
    t.equal(r.phone.type, 'mobile')
    t.equal(r.nextAttemptAt, beijing10am + DEFAULT_SCREENING_POLICY.minRecallGapMs, 'next attempt after the gap')
  }
})

t.test('China: national mobile and fixed line with the CN hint, Beijing hours', async (t) => {
  t.ok(screen(lead({ phone: '010 6552 9988' }), ctx(), policy, beijing10am).ok)
  const night = screen(lead(), ctx(), policy, iso('2026-06-01T14:00:00Z')) // 22:00 Beijing
  t.same(codes(night), ['outside-hours'])
  t.equal(!night.ok && night.retryAt, iso('2026-06-02T01:00:00Z'))
  t.equal(!night.ok && night.rejections[0]!.retryAt, iso('2026-06-02T01:00:00Z'))
  // Xinjiang fixed line (0991 Urumqi) is judged in Beijing and Xinjiang time: 09:00 Urumqi = 03:00Z.
  const urumqi = screen(lead({ phone: '0991 123 4567' }), ctx(), policy, beijing10am)
  t.same(codes(urumqi), ['outside-hours'])
  t.equal(!urumqi.ok && urumqi.retryAt, iso('2026-06-01T03:00:00Z'))
})

t.test('US: area code picks the zone; the lead time zone wins; straddling area codes use both', async (t) => {
  const at = iso('2026-01-15T14:30:00Z') // 09:30 ET, 06:30 PT
  t.ok(screen(lead({ phone: '+1 212 555 0123' }), ctx(), policy, at).ok, 'New York')
  const la = screen(lead({ phone: '+1 310 555 0123' }), ctx(), policy, at)
  t.same(codes(la), ['outside-hours'], 'Los Angeles is at 06:30')
  t.equal(!la.ok && la.retryAt, iso('2026-01-15T17:00:00Z'))
  const moved = screen(lead({ phone: '+1 310 555 0123', timezone: 'America/New_York' }), ctx(), policy, at)
  t.ok(moved.ok && moved.timeZoneSource === 'lead', 'the lead lives in New York now')
  const panhandle = screen(lead({ phone: '+1 850 555 0123' }), ctx(), policy, at)
  t.same(codes(panhandle), ['outside-hours'], '850 spans ET and CT: 08:30 CT')
  t.equal(!panhandle.ok && panhandle.retryAt, iso('2026-01-15T15:00:00Z'))
})

t.test('DNC: global, campaign and prefix lists, and fail closed without a snapshot', async (t) => {
  const dnc = new MemoryDncList().addGlobal('+8613812345678').addCampaign('camp', '+8613912345678')
  t.ok(dnc.addPrefix('+86 1065'))
  t.ok(dnc.addPrefix('1201XXXXXXX', 'camp'))
  t.notOk(dnc.addPrefix('+1'))
  t.same(codes(screen(lead(), { dnc }, policy, beijing10am)), ['dnc-global'])
  t.same(codes(screen(lead({ phone: '13912345678' }), { dnc }, policy, beijing10am)), ['dnc-campaign'])
  t.ok(screen(lead({ phone: '13912345678', campaignId: 'other' }), { dnc }, policy, beijing10am).ok, 'other campaign')
  t.same(codes(screen(lead({ phone: '010 6552 9988' }), { dnc }, policy, beijing10am)), ['dnc-prefix'])
  const nj = screen(lead({ phone: '+1 201 555 0123' }), { dnc }, policy, iso('2026-01-15T15:00:00Z'))
  t.same(codes(nj), ['dnc-prefix'])
  t.notOk(!nj.ok && nj.retryAt, 'DNC never clears with time')
  t.same(codes(screen(lead(), {}, policy, beijing10am)), ['dnc-unavailable'])
  const off = resolveScreeningPolicy({ dnc: { global: false, campaign: false, prefix: false } })
  t.ok(screen(lead(), {}, off, beijing10am).ok, 'DNC off needs no snapshot')
})

t.test('caps: total, 24 h, 7 days, 30 days with retry times', async (t) => {
  const p = resolveScreeningPolicy({ caps: { maxTotal: 20, max24h: 3, max7d: 5, max30d: 10 } })
  const now = beijing10am
  const three = [now - 20 * HOUR, now - 3 * HOUR, now - 1 * HOUR]
  const r = screen(lead({ attemptTimes: three }), ctx(), p, now)
  t.same(codes(r), ['attempt-cap-24h'])
  t.equal(!r.ok && r.rejections[0]!.retryAt, now + 4 * HOUR, 'oldest of the three ages out')
  const five = [now - 6 * DAY, now - 5 * DAY, now - 3 * DAY, now - 2 * DAY, now - 1.5 * DAY]
  const w = screen(lead({ attemptTimes: five }), ctx(), p, now)
  t.same(codes(w), ['attempt-cap-7d'])
  t.equal(!w.ok && w.retryAt, now + DAY, 'clears when the attempt of 6 days ago leaves the week')
  const total = screen(lead({ attemptTimes: Array.from({ length: 20 }, (_, i) => now - (60 + i) * DAY) }), ctx(), p, now)
  t.same(codes(total), ['attempt-cap-total'])
  t.notOk(!total.ok && total.retryAt !== undefined, 'the total cap never clears')
  const other = screen(lead({ attemptTimes: [now - 2 * HOUR] }), { ...ctx(), otherAttemptTimes: [now - 5 * HOUR, now - 4 * HOUR] }, p, now)
  t.same(codes(other), ['attempt-cap-24h'], 'attempts from other campaigns count')
})

t.test('twice a week (MISSION): the third call waits until the first is a week old', async (t) => {
  const p = resolveScreeningPolicy({ caps: { max7d: 2 } })
  const now = beijing10am
  const r = screen(lead({ attemptTimes: [now - 6 * DAY, now - 2 * DAY] }), ctx(), p, now)
  t.same(codes(r), ['attempt-cap-7d'])
  t.equal(!r.ok && r.retryAt, now + DAY)
})

t.test('re-call gap and 72 h abandon lockout', async (t) => {
  const p = resolveScreeningPolicy({ minRecallGapMs: 2 * HOUR, abandonLockoutMs: OFCOM_ABANDON_LOCKOUT_MS })
  const now = beijing10am
  const gap = screen(lead({ attemptTimes: [now - HOUR] }), ctx(), p, now)
  t.same(codes(gap), ['recall-gap'])
  t.equal(!gap.ok && gap.retryAt, now + HOUR)
  const ab = screen(lead({ attemptTimes: [now - 10 * HOUR], lastAbandonedAt: now - 10 * HOUR }), ctx(), p, now)
  t.same(codes(ab), ['abandon-lockout'])
  // 62 h later is 00:00 Beijing on Thursday: the retry waits for 09:00.
  t.equal(!ab.ok && ab.retryAt, iso('2026-06-04T01:00:00Z'))
  t.ok(screen(lead({ lastAbandonedAt: now - 10 * HOUR }), ctx(), policy, now).ok, 'lockout off by default')
})

t.test('learned-invalid numbers are skipped until the entry expires', async (t) => {
  const book = new InvalidNumberMemory()
  const entry = learnFromFailure('+8613812345678', { announcement: '您拨打的号码已停机' }, beijing10am - DAY)
  t.ok(entry)
  book.learn(entry!)
  const r = screen(lead(), { ...ctx(), invalidNumbers: book }, policy, beijing10am)
  t.same(codes(r), ['learned-invalid'])
  t.equal(!r.ok && r.retryAt, entry!.expiresAt, 'suspended: 14 days, a 10:00 Beijing instant')
  t.ok(screen(lead(), { ...ctx(), invalidNumbers: book }, policy, entry!.expiresAt!).ok)
})

t.test('consent, number types, regions, lead status', async (t) => {
  const p = resolveScreeningPolicy({ requireConsent: true, allowedRegions: ['CN'] })
  t.same(codes(screen(lead(), ctx(), p, beijing10am)), ['no-consent'])
  const consent = { hasConsent: (c: string, n: string) => c === 'camp' && n === '+8613812345678' }
  t.ok(screen(lead(), { ...ctx(), consent }, p, beijing10am).ok)
  t.same(codes(screen(lead({ phone: '+1 212 555 0123' }), { ...ctx(), consent }, p, beijing10am)), ['no-consent', 'outside-hours', 'region-not-allowed'])
  t.same(codes(screen(lead({ phone: '4008001234' }), ctx(), policy, beijing10am)), ['number-type'])
  t.same(codes(screen(lead({ status: 'refused' }), ctx(), policy, beijing10am)), ['lead-refused'])
  t.same(codes(screen(lead({ status: 'dnc' }), ctx(), policy, beijing10am)), ['lead-dnc'])
})

t.test('several reasons at once, and retryAt is when they all clear together', async (t) => {
  const p = resolveScreeningPolicy({ minRecallGapMs: 30 * 60_000 })
  const at = iso('2026-06-01T12:45:00Z') // 20:45 Beijing
  const r = screen(lead({ attemptTimes: [at - 10 * 60_000] }), ctx(), p, at)
  t.same(codes(r), ['recall-gap'])
  // The gap clears at 21:05, outside the window: the lead is dialable at 09:00 next morning.
  t.equal(!r.ok && r.rejections[0]!.retryAt, at + 20 * 60_000)
  t.equal(!r.ok && r.retryAt, iso('2026-06-02T01:00:00Z'))
  const rs = screen(lead({ attemptTimes: [iso('2026-06-01T12:00:00Z')] }), ctx(), p, iso('2026-06-01T13:00:00Z'))
  t.same(codes(rs), ['outside-hours'], 'gap over, window closed')
})

t.test('garbage never throws: every bad input is a rejection with a reason', async (t) => {
  const cases: Array<[string, unknown, unknown, unknown, string]> = [
    ['garbage phone', lead({ phone: 'call me maybe' }), ctx(), policy, 'invalid-format'],
    ['bad tz', lead({ timezone: 'Not/AZone' }), ctx(), policy, 'invalid-timezone'],
    ['non-geographic', lead({ phone: '+800 1234 5678' }), ctx(), resolveScreeningPolicy({ blockedTypes: [] }), 'unknown-timezone'],
    ['NaN clock', lead(), ctx(), policy, 'invalid-clock'],
    ['null lead', null, ctx(), policy, 'invalid-lead'],
    ['attempts not an array', lead({ attemptTimes: 'x' as unknown as number[] }), ctx(), policy, 'invalid-lead'],
    ['NaN attempt', lead({ attemptTimes: [Number.NaN] }), ctx(), policy, 'invalid-lead'],
    ['bad policy', lead(), ctx(), { ...policy, minRecallGapMs: -1 }, 'invalid-policy'],
    ['null policy', lead(), ctx(), null, 'invalid-policy'],
    ['throwing lookup', lead(), { dnc: { isGlobal: () => { throw new Error('boom') } } }, policy, 'invalid-lead'],
  ]
  for (const [name, l, c, p, code] of cases) {
    const now = name === 'NaN clock' ? Number.NaN : beijing10am
    const r = screen(l as ScreenableLead, c as ScreenContext, p as typeof policy, now)
    t.notOk(r.ok, name)
    t.ok(codes(r).includes(code), `${name}: ${codes(r).join(',')}`)
    t.ok(!r.ok && r.rejections.every((x) => x.detail.length > 0), `${name}: details`)
  }
})

t.test('presets: rest hours, TSR hours, Chinese carrier caps', async (t) => {
  const older = resolveScreeningPolicy({ callingHours: { weekly: OLDER_CUSTOMER_HOURS }, caps: CN_CARRIER_CAPS })
  t.ok(screen(lead(), ctx(), older, beijing10am).ok, '10:00 Beijing')
  const noon = screen(lead(), ctx(), older, iso('2026-06-01T04:00:00Z'))
  t.same(codes(noon), ['outside-hours'])
  t.equal(!noon.ok && noon.retryAt, iso('2026-06-02T01:00:00Z'))
  const office = resolveScreeningPolicy({ callingHours: { weekly: OFFICE_WORKER_HOURS } })
  t.equal((screen(lead(), ctx(), office, beijing10am) as { retryAt?: number }).retryAt, iso('2026-06-01T11:00:00Z'), '19:00 Beijing')
  const tsr = resolveScreeningPolicy({ callingHours: { weekly: TSR_HOURS } })
  t.ok(screen(lead({ phone: '+1 212 555 0123' }), ctx(), tsr, iso('2026-01-15T13:00:00Z')).ok, '08:00 New York')
  const fourth = screen(lead({ attemptTimes: [1, 2, 3].map((h) => beijing10am - h * HOUR) }), ctx(), older, beijing10am)
  t.same(codes(fourth), ['attempt-cap-24h'])
  t.same(resolveScreeningPolicy({ caps: TWICE_A_WEEK_CAPS }).caps, { maxTotal: 10, max7d: 2 })
})
