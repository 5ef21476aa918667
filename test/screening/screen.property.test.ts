import t from 'tap'
import fc from 'fast-check'
import { screen, type ScreenableLead, type ScreenContext, type ScreenResult } from '../../engine/screening/screen.js'
import { resolveScreeningPolicy, type ScreeningPolicy } from '../../engine/screening/policy.js'
import { MemoryDncList } from '../../engine/screening/dnc.js'
import { InvalidNumberMemory } from '../../engine/screening/invalid-numbers.js'
import { parsePhone } from '../../engine/screening/number.js'
import type { CallingWindow } from '../../engine/screening/calling-hours.js'
import { oracleAllowedInAll, oracleCountViolations, oracleLocal } from './fixtures/oracle.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const FROM = Date.UTC(2024, 0, 1)
const TO = Date.UTC(2030, 0, 1)
const allZones = Intl.supportedValuesOf('timeZone')

/** DST and other offset changes of zones with unusual rules, 2024-2029, found by daily scan and bisection. */
const dstZones = [
  'America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Australia/Sydney', 'Australia/Lord_Howe',
  'America/Santiago', 'Pacific/Chatham', 'America/Havana', 'Asia/Jerusalem', 'America/Asuncion', 'Africa/Casablanca',
  'America/St_Johns', 'Africa/Cairo',
]
const offsetAt = (t: number, z: string): number => {
  const l = oracleLocal(t, z)
  const [y, mo, d] = l.date.split('-').map(Number) as [number, number, number]
  return Date.UTC(y, mo - 1, d) + l.minuteOfDay * MIN - Math.floor(t / MIN) * MIN
}
const transitions: Array<{ zone: string; at: number }> = []
for (const zone of dstZones) {
  for (let d = FROM; d < TO; d += DAY) {
    if (offsetAt(d, zone) === offsetAt(d + DAY, zone)) continue
    let lo = d
    let hi = d + DAY
    while (hi - lo > MIN) {
      const mid = Math.floor((lo + hi) / 2 / MIN) * MIN
      if (offsetAt(mid, zone) === offsetAt(lo, zone)) lo = mid
      else hi = mid
    }
    transitions.push({ zone, at: hi })
  }
}

const pad = (n: number): string => String(n).padStart(2, '0')
const hhmm = (m: number): string => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`

/** Present a third of the time: most scenarios should be dialable somewhere, so the safety checks bite. */
const sometimes = <T,>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a })

const windowArb: fc.Arbitrary<CallingWindow> = fc
  .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1440 }))
  .map(([s, len]) => ({ start: hhmm(s), end: hhmm(Math.min(1440, s + len)) }))
const wideWindowArb: fc.Arbitrary<CallingWindow> = fc
  .tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1080, max: 1440 }))
  .map(([s, e]) => ({ start: hhmm(s), end: hhmm(e) }))
const dayArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant([] as CallingWindow[]) },
  { weight: 8, arbitrary: fc.array(wideWindowArb, { minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.array(windowArb, { minLength: 1, maxLength: 3 }) },
)

/** When and where: uniform over six years in any zone, or within two days of an offset change of that zone. */
const whenWhereArb = fc.oneof(
  fc.record({ zone: fc.constantFrom(...allZones), now: fc.integer({ min: FROM, max: TO }) }),
  fc
    .tuple(fc.constantFrom(...transitions), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
    .map(([tr, d]) => ({ zone: tr.zone, now: tr.at + d })),
  fc
    .tuple(fc.constantFrom(...transitions), fc.integer({ min: -90, max: 90 }))
    .map(([tr, m]) => ({ zone: tr.zone, now: tr.at + m * MIN })),
)

const phonePool: Array<[string, string | undefined]> = [
  ['13812345678', 'CN'], ['+8613912345678', undefined], ['010 6552 9988', 'CN'], ['0991 123 4567', 'CN'],
  ['0755 1234 5678', 'CN'], ['+1 212 555 0123', undefined], ['+1 310 555 0199', undefined], ['+1 850 555 0123', undefined],
  ['+1 907 555 0123', undefined], ['+1 604 555 0123', undefined], ['+1 605 555 0123', undefined], ['+44 7400 123456', undefined],
  ['+61 412 345 678', undefined], ['+7 916 123 4567', undefined], ['+55 11 91234 5678', undefined], ['+49 1512 3456789', undefined],
  ['+1 800 555 0199', undefined], ['not a number', 'CN'], ['12345', 'CN'],
]
const e164Of = new Map<string, string>()
for (const [raw, region] of phonePool) {
  const p = parsePhone(raw, region)
  if (p.ok) e164Of.set(raw, p.phone.e164)
}

/** Zones the number must be judged in by our own reading of the rules, where we know them. */
function expectedZoneFor(raw: string, leadZone: string | undefined): string | undefined {
  if (leadZone) return leadZone
  const e = e164Of.get(raw)
  if (!e) return undefined
  if (e.startsWith('+86')) return 'Asia/Shanghai'
  if (e.startsWith('+1212')) return 'America/New_York'
  if (e.startsWith('+1310')) return 'America/Los_Angeles'
  if (e.startsWith('+1850')) return 'America/Chicago'
  if (e.startsWith('+1604')) return 'America/Vancouver'
  if (e.startsWith('+44')) return 'Europe/London'
  return undefined
}

interface Scenario {
  lead: ScreenableLead
  context: ScreenContext
  policy: ScreeningPolicy
  now: number
  dncGlobal: Set<string>
  dncCampaign: Set<string>
  dncPrefixes: string[]
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    whenWhere: whenWhereArb,
    useLeadZone: fc.integer({ min: 0, max: 9 }),
    phone: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...phonePool.filter(([raw]) => e164Of.has(raw))) },
      { weight: 1, arbitrary: fc.constantFrom(...phonePool) },
    ),
    weekly: fc.record({ sun: dayArb, mon: dayArb, tue: dayArb, wed: dayArb, thu: dayArb, fri: dayArb, sat: dayArb }),
    holidayOffsets: fc.array(fc.integer({ min: -3, max: 20 }), { maxLength: 3 }),
    caps: fc.record({
      maxTotal: sometimes(fc.integer({ min: 0, max: 30 })),
      max24h: sometimes(fc.integer({ min: 0, max: 5 })),
      max7d: sometimes(fc.integer({ min: 0, max: 8 })),
      max30d: sometimes(fc.integer({ min: 0, max: 15 })),
    }),
    gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 * HOUR }), fc.integer({ min: 1, max: 3 * DAY })),
    lockout: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, fc.constant(72 * HOUR), fc.integer({ min: 1, max: 5 * DAY })),
    attempts: fc.array(fc.integer({ min: -40 * DAY, max: HOUR }), { maxLength: 6 }),
    others: fc.array(fc.integer({ min: -10 * DAY, max: 0 }), { maxLength: 2 }),
    abandonedAgo: sometimes(fc.integer({ min: -HOUR, max: 6 * DAY })),
    invalid: fc.oneof(
      { weight: 14, arbitrary: fc.constant('none' as const) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: -2 * DAY, max: 20 * DAY }) },
    ),
    dncKind: fc.oneof(
      { weight: 12, arbitrary: fc.constant('none') },
      { weight: 1, arbitrary: fc.constantFrom('global', 'campaign', 'prefix', 'all') },
    ),
    prefixLen: fc.integer({ min: 2, max: 8 }),
    prefixOwn: fc.boolean(),
    blockTollFree: fc.boolean(),
  })
  .map((r) => {
    const { zone, now } = r.whenWhere
    const [raw, region] = r.phone
    const e164 = e164Of.get(raw)
    const dnc = new MemoryDncList()
    const dncGlobal = new Set<string>()
    const dncCampaign = new Set<string>()
    const dncPrefixes: string[] = []
    const on = (k: string): boolean => r.dncKind === k || r.dncKind === 'all'
    if (e164 && on('global')) (dnc.addGlobal(e164), dncGlobal.add(e164))
    if (e164 && on('campaign')) (dnc.addCampaign('camp', e164), dncCampaign.add(e164))
    if (e164 && on('prefix')) {
      const p = e164.slice(0, 1 + Math.min(r.prefixLen, e164.length - 1))
      dnc.addPrefix(p, r.prefixOwn ? 'camp' : undefined)
      dncPrefixes.push(p)
    }
    const invalidNumbers = new InvalidNumberMemory()
    if (e164 && r.invalid !== 'none') {
      const entry = { e164, reason: 'suspended' as const, source: 'sip' as const, learnedAt: now - DAY }
      invalidNumbers.learn(r.invalid === undefined ? entry : { ...entry, expiresAt: now + r.invalid })
    }
    const holidays = r.holidayOffsets.map((d) => new Date(now + d * DAY).toISOString().slice(0, 10))
    const policy = resolveScreeningPolicy({
      callingHours: { weekly: r.weekly, holidays },
      caps: r.caps,
      minRecallGapMs: r.gap,
      abandonLockoutMs: r.lockout,
      blockedTypes: r.blockTollFree ? ['toll-free'] : [],
    })
    const lead: ScreenableLead = { campaignId: 'camp', phone: raw, attemptTimes: r.attempts.map((a) => now + a) }
    if (region) lead.region = region
    if (r.useLeadZone < 7) lead.timezone = zone
    if (r.abandonedAgo !== undefined) lead.lastAbandonedAt = now - r.abandonedAgo
    const context: ScreenContext = { dnc, invalidNumbers, otherAttemptTimes: r.others.map((a) => now + a) }
    return { lead, context, policy, now, dncGlobal, dncCampaign, dncPrefixes }
  })

function assertSafe(s: Scenario, r: ScreenResult, at: number): void {
  if (!r.ok) return
  const e = r.e164
  if (s.dncGlobal.has(e) || s.dncCampaign.has(e) || s.dncPrefixes.some((p) => e.startsWith(p))) {
    throw new Error(`dialed DNC number ${e}`)
  }
  const expected = expectedZoneFor(s.lead.phone, s.lead.timezone)
  if (expected && !r.timeZones.includes(expected)) throw new Error(`zones ${r.timeZones} miss ${expected}`)
  const zones = expected ? [...new Set([expected, ...r.timeZones])] : r.timeZones
  if (!oracleAllowedInAll(s.policy, at, zones)) {
    const l = zones.map((z) => `${z} ${JSON.stringify(oracleLocal(at, z))}`).join('; ')
    throw new Error(`allowed outside hours at ${new Date(at).toISOString()}: ${l}`)
  }
  const attempts = [...s.lead.attemptTimes, ...(s.context.otherAttemptTimes ?? [])]
  const v = oracleCountViolations(s.policy, attempts, s.lead.lastAbandonedAt, at)
  if (v.length > 0) throw new Error(`allowed despite ${v.join(', ')}`)
  const inv = s.context.invalidNumbers?.get(e)
  if (inv && (inv.expiresAt === undefined || at < inv.expiresAt)) throw new Error('allowed a learned-invalid number')
}

t.test('the scenarios exercise both sides: dialable leads and leads rejected with a retry time', async (t) => {
  let ok = 0
  let retry = 0
  const samples = fc.sample(scenarioArb, { numRuns: 600, seed: 42 })
  for (const sc of samples) {
    const r = screen(sc.lead, sc.context, sc.policy, sc.now)
    if (r.ok) ok++
    else if (r.retryAt !== undefined) retry++
  }
  t.ok(ok > samples.length / 10, `${ok} of ${samples.length} dialable`)
  t.ok(retry > samples.length / 10, `${retry} of ${samples.length} rejected with a retry time`)
})

t.test(`transitions found for the DST-biased clocks (${transitions.length})`, async (t) => {
  t.ok(transitions.length > 100)
})

t.test('screen() never allows a call outside hours, to DNC, over a cap, inside the gap or lockout', async () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      assertSafe(s, screen(s.lead, s.context, s.policy, s.now), s.now)
    }),
    { numRuns: 4000 },
  )
})

t.test('retryAt is allowed: each rule clears at its retryAt, and the lead is dialable at the overall retryAt', async () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const r = screen(s.lead, s.context, s.policy, s.now)
      if (r.ok) return
      for (const rej of r.rejections) {
        if (rej.retryAt === undefined) continue
        if (!(rej.retryAt > s.now)) throw new Error(`${rej.code} retryAt not in the future`)
        const later = screen(s.lead, s.context, s.policy, rej.retryAt)
        const still = later.ok ? [] : later.rejections.map((x) => x.code)
        const hoursCodes = ['outside-hours', 'holiday']
        const blocked = hoursCodes.includes(rej.code) ? still.some((c) => hoursCodes.includes(c)) : still.includes(rej.code)
        if (blocked) throw new Error(`${rej.code} still there at its retryAt ${new Date(rej.retryAt).toISOString()}`)
      }
      if (r.retryAt !== undefined) {
        const later = screen(s.lead, s.context, s.policy, r.retryAt)
        if (!later.ok) throw new Error(`not dialable at retryAt: ${later.rejections.map((x) => x.code)}`)
        assertSafe(s, later, r.retryAt)
      }
    }),
    { numRuns: 2000 },
  )
})

t.test('nextAttemptAt is when the following attempt may be placed, had this call been placed now', async () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const r = screen(s.lead, s.context, s.policy, s.now)
      if (!r.ok || r.nextAttemptAt === undefined) return
      if (r.nextAttemptAt < s.now) throw new Error('nextAttemptAt in the past')
      const after = { ...s.lead, attemptTimes: [...s.lead.attemptTimes, s.now] }
      const later = screen(after, s.context, s.policy, r.nextAttemptAt)
      if (!later.ok) throw new Error(`not dialable at nextAttemptAt: ${later.rejections.map((x) => x.code)}`)
      assertSafe({ ...s, lead: after }, later, r.nextAttemptAt)
    }),
    { numRuns: 1500 },
  )
})

t.test('an hours retryAt is the earliest: sampled instants before it are outside the hours', async () => {
  fc.assert(
    fc.property(scenarioArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }), (s, fr) => {
      const r = screen(s.lead, s.context, s.policy, s.now)
      if (r.ok) return
      const h = r.rejections.find((x) => x.code === 'outside-hours' || x.code === 'holiday')
      if (!h || h.retryAt === undefined) return
      const probe = screen({ ...s.lead, attemptTimes: [], lastAbandonedAt: undefined }, { ...s.context, otherAttemptTimes: [] }, s.policy, h.retryAt)
      if (!probe.ok && probe.rejections.some((x) => x.code === 'outside-hours' || x.code === 'holiday')) throw new Error('retryAt outside hours')
      const zones = probe.ok ? probe.timeZones : undefined
      if (!zones) return
      const points = [h.retryAt - MIN, ...fr.map((f) => s.now + Math.floor(f * (h.retryAt! - s.now)))]
      for (const p of points) {
        if (p >= s.now && p < h.retryAt && oracleAllowedInAll(s.policy, p, zones)) {
          throw new Error(`allowed at ${new Date(p).toISOString()} before retryAt ${new Date(h.retryAt).toISOString()}`)
        }
      }
    }),
    { numRuns: 1500 },
  )
})

t.test('screen() never throws on arbitrary input', async () => {
  fc.assert(
    fc.property(
      fc.anything(),
      fc.record({ phone: fc.oneof(fc.string(), fc.anything()), timezone: fc.oneof(fc.string(), fc.constantFrom(...allZones)), attemptTimes: fc.anything() }),
      fc.oneof(fc.anything(), fc.constant(resolveScreeningPolicy())),
      fc.oneof(fc.double(), fc.integer({ min: FROM, max: TO })),
      (junk, partial, policy, now) => {
        const lead = { campaignId: 'camp', ...partial } as unknown as ScreenableLead
        for (const l of [lead, junk as ScreenableLead]) {
          const r = screen(l, { dnc: new MemoryDncList() }, policy as ScreeningPolicy, now)
          if (!r.ok && r.rejections.length === 0) throw new Error('rejected without a reason')
        }
      },
    ),
    { numRuns: 1000 },
  )
})
