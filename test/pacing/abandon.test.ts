import t from 'tap'
import { AbandonLedger, DAY_MS, HOUR_MS, fccRate, ofcomRate } from '../../engine/pacing/abandon.js'

const MIN = 60_000

t.test('day window follows the campaign calendar day in its UTC offset', async (t) => {
  // UTC-5: the local day starts at 05:00 UTC.
  const l = new AbandonLedger({ utcOffsetMinutes: -300 })
  const day0 = 10 * DAY_MS
  l.record(day0 + 4 * HOUR_MS, true) // 23:00 local, previous day
  l.record(day0 + 6 * HOUR_MS, false) // 01:00 local
  l.record(day0 + 7 * HOUR_MS, true)
  l.record(day0 + 8 * HOUR_MS, false)
  const s = l.status(day0 + 9 * HOUR_MS)
  t.same(s.day, { live: 3, drops: 1 })
  t.same(s.thirtyDays, { live: 4, drops: 2 })
  t.equal(fccRate(s.day), 1 / 3)
  t.equal(l.dayStart(day0 + 9 * HOUR_MS), day0 + 5 * HOUR_MS)
})

t.test('rolling 30 days forgets what is older than 30 days', async (t) => {
  const l = new AbandonLedger()
  l.record(0, true)
  l.record(DAY_MS, false)
  l.record(29 * DAY_MS, false)
  t.same(l.status(30 * DAY_MS - 1).thirtyDays, { live: 3, drops: 1 })
  t.same(l.status(30 * DAY_MS + 1).thirtyDays, { live: 2, drops: 0 })
})

t.test('last hour and the worst rolling hour', async (t) => {
  const l = new AbandonLedger({ minHourAnswers: 1 })
  // Hour 0: 10 answers, no drops. Hour 1: 10 answers, 3 drops clustered at 1h30.
  for (let i = 0; i < 10; i++) l.record(i * 6 * MIN, false)
  for (let i = 0; i < 10; i++) l.record(HOUR_MS + i * 6 * MIN, i >= 5 && i <= 7)
  const s = l.status(2 * HOUR_MS)
  // The window is (now - 1 h, now]: the answer at exactly 1 h has left it.
  t.same(s.lastHour, { live: 9, drops: 3 })
  t.same(l.status(2 * HOUR_MS - 1).lastHour, { live: 10, drops: 3 })
  // The windows ending at each event see at most the 3 drops; the worst is the one holding them with fewest answers.
  const worst = l.worstWindowRate(HOUR_MS, 0, 2 * HOUR_MS)
  t.ok(worst >= 0.3 - 1e-9, `worst ${worst}`)
  t.ok(worst <= 3 / 9 + 1e-9, 'no window holds more than the 3 drops among fewer than 9 answers')
  t.ok(s.worstHourRate > 0 && s.worstHourRate <= worst + 1e-12, 'tracked online, never above the exact sweep')
  // A window with too few answers is ignored.
  t.equal(l.worstWindowRate(HOUR_MS, 0, 2 * HOUR_MS, 50), 0)
})

t.test('events out of order are refused', async (t) => {
  const l = new AbandonLedger()
  l.record(1000, false)
  t.throws(() => l.record(999, false), /before the last/)
})

t.test('Ofcom-style rate adds the estimated AMD false positives', async (t) => {
  const c = { live: 970, drops: 10 }
  t.ok(Math.abs(fccRate(c) - 10 / 970) < 1e-12)
  // fp 3%: estimated people hung up on = 0.03/0.97 * 970 = 30.
  t.ok(Math.abs(ofcomRate(c, 0.03) - 40 / 970) < 1e-9)
  t.equal(ofcomRate(c, 0), fccRate(c))
  t.equal(ofcomRate({ live: 0, drops: 0 }, 0.03), 0)
})
