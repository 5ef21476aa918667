import t from 'tap'
import { compileCallingHours, nextAllowedInAll, hoursVerdict, type CallingHours } from '../../engine/screening/calling-hours.js'
import { localTimeAt, isValidTimeZone } from '../../engine/screening/local-time.js'

function compile(h: CallingHours) {
  const c = compileCallingHours(h)
  if (!c.ok) throw new Error(c.errors.join('; '))
  return c.hours
}
const everyDay = (windows: Array<[string, string]>): CallingHours['weekly'] => {
  const w = windows.map(([start, end]) => ({ start, end }))
  return { sun: w, mon: w, tue: w, wed: w, thu: w, fri: w, sat: w }
}
const nineToNine = compile({ weekly: everyDay([['09:00', '21:00']]), holidays: [] })
const iso = (s: string): number => Date.parse(s)

t.test('local time follows DST in New York and London', async (t) => {
  const before = localTimeAt(iso('2026-03-08T06:59:00Z'), 'America/New_York')!
  const after = localTimeAt(iso('2026-03-08T07:00:00Z'), 'America/New_York')!
  t.equal(before.hour, 1)
  t.equal(before.offsetMinutes, -300)
  t.equal(after.hour, 3, 'spring forward skips 02:xx')
  t.equal(after.offsetMinutes, -240)
  const london = localTimeAt(iso('2026-10-25T01:30:00Z'), 'Europe/London')!
  t.equal(london.hour, 1)
  t.equal(london.offsetMinutes, 0, 'after fall back London is on GMT')
  t.equal(localTimeAt(iso('2026-11-23T17:00:00Z'), 'Asia/Shanghai')!.date, '2026-11-24')
  t.equal(localTimeAt(iso('2026-11-23T17:00:00Z'), 'Asia/Shanghai')!.weekday, 2, 'Tuesday in Beijing')
  t.equal(localTimeAt(Number.NaN, 'Asia/Shanghai'), undefined)
  t.equal(localTimeAt(0, 'Mars/Olympus'), undefined)
  t.notOk(isValidTimeZone('Mars/Olympus'))
  t.notOk(isValidTimeZone(''))
  t.notOk(isValidTimeZone(7))
  t.ok(isValidTimeZone('Asia/Shanghai'))
})

t.test('window edges: start inclusive, end exclusive', async (t) => {
  const z = 'Asia/Shanghai'
  t.equal(hoursVerdict(nineToNine, localTimeAt(iso('2026-06-01T00:59:59Z'), z)!), 'outside-hours', '08:59:59')
  t.equal(hoursVerdict(nineToNine, localTimeAt(iso('2026-06-01T01:00:00Z'), z)!), 'ok', '09:00')
  t.equal(hoursVerdict(nineToNine, localTimeAt(iso('2026-06-01T12:59:59Z'), z)!), 'ok', '20:59:59')
  t.equal(hoursVerdict(nineToNine, localTimeAt(iso('2026-06-01T13:00:00Z'), z)!), 'outside-hours', '21:00')
  t.equal(nextAllowedInAll(nineToNine, [z], iso('2026-06-01T13:00:00Z')), iso('2026-06-02T01:00:00Z'))
  t.equal(nextAllowedInAll(nineToNine, [z], iso('2026-06-01T05:00:00Z')), iso('2026-06-01T05:00:00Z'), 'inside: now')
})

t.test('spring forward: a window starting inside the skipped hour opens at the jump', async (t) => {
  const h = compile({ weekly: { sun: [{ start: '02:30', end: '04:00' }] }, holidays: [] })
  // 2026-03-08 01:59 EST: 02:30 never happens, 03:00 EDT (07:00Z) is the first instant inside the window.
  t.equal(nextAllowedInAll(h, ['America/New_York'], iso('2026-03-08T06:59:00Z')), iso('2026-03-08T07:00:00Z'))
  // 09:00 on the DST day is 13:00Z (EDT), not 14:00Z as the wall-clock distance from midnight EST would say.
  t.equal(nextAllowedInAll(nineToNine, ['America/New_York'], iso('2026-03-08T05:00:00Z')), iso('2026-03-08T13:00:00Z'))
})

t.test('fall back: 09:00 on the long day is after the repeated hour', async (t) => {
  // 2026-11-01 00:00 EDT (04:00Z); clocks go back at 06:00Z; 09:00 EST is 14:00Z.
  t.equal(nextAllowedInAll(nineToNine, ['America/New_York'], iso('2026-11-01T04:00:00Z')), iso('2026-11-01T14:00:00Z'))
  const early = compile({ weekly: { sun: [{ start: '01:30', end: '02:00' }] }, holidays: [] })
  // The first 01:30 of the repeated hour (EDT, 05:30Z) is the earliest.
  t.equal(nextAllowedInAll(early, ['America/New_York'], iso('2026-11-01T04:00:00Z')), iso('2026-11-01T05:30:00Z'))
  // From 06:00Z (01:00 EST, second pass) the second 01:30 (06:30Z) is next.
  t.equal(nextAllowedInAll(early, ['America/New_York'], iso('2026-11-01T06:00:00Z')), iso('2026-11-01T06:30:00Z'))
  const london = compile({ weekly: everyDay([['08:00', '21:00']]), holidays: [] })
  t.equal(nextAllowedInAll(london, ['Europe/London'], iso('2026-10-24T21:00:00Z')), iso('2026-10-25T08:00:00Z'))
})

t.test('holidays are local dates: China National Day week', async (t) => {
  const holidays = ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07']
  const h = compile({ weekly: everyDay([['09:00', '21:00']]), holidays })
  const z = 'Asia/Shanghai'
  // 2026-09-30 17:00Z is already 01:00 on 1 October in Beijing.
  t.equal(hoursVerdict(h, localTimeAt(iso('2026-10-01T03:00:00Z'), z)!), 'holiday')
  t.equal(nextAllowedInAll(h, [z], iso('2026-09-30T13:00:00Z')), iso('2026-10-08T01:00:00Z'))
  // The same UTC instant is not a holiday in New York (still 30 September there).
  t.equal(hoursVerdict(h, localTimeAt(iso('2026-09-30T17:00:00Z'), 'America/New_York')!), 'ok')
})

t.test('several windows a day and weekdays only', async (t) => {
  const rest = compile({ weekly: everyDay([['09:00', '11:00'], ['19:00', '21:00']]), holidays: [] })
  t.equal(nextAllowedInAll(rest, ['Asia/Shanghai'], iso('2026-06-01T03:30:00Z')), iso('2026-06-01T11:00:00Z'), '11:30 -> 19:00')
  const w = [{ start: '09:00', end: '18:00' }]
  const weekdays = compile({ weekly: { mon: w, tue: w, wed: w, thu: w, fri: w }, holidays: [] })
  // Saturday 2026-06-06 10:00 Beijing -> Monday 2026-06-08 09:00 Beijing.
  t.equal(nextAllowedInAll(weekdays, ['Asia/Shanghai'], iso('2026-06-06T02:00:00Z')), iso('2026-06-08T01:00:00Z'))
})

t.test('several zones: allowed only inside the window in all of them', async (t) => {
  const zones = ['America/New_York', 'America/Chicago']
  // 2026-01-15 13:30Z = 08:30 ET / 07:30 CT -> 09:00 CT = 15:00Z.
  t.equal(nextAllowedInAll(nineToNine, zones, iso('2026-01-15T13:30:00Z')), iso('2026-01-15T15:00:00Z'))
  // 01:30Z next day = 20:30 ET / 19:30 CT: inside; 02:00Z = 21:00 ET: closed until 09:00 CT.
  t.equal(nextAllowedInAll(nineToNine, zones, iso('2026-01-16T01:30:00Z')), iso('2026-01-16T01:30:00Z'))
  t.equal(nextAllowedInAll(nineToNine, zones, iso('2026-01-16T02:00:00Z')), iso('2026-01-16T15:00:00Z'))
})

t.test('no window at all: no next time', async (t) => {
  const never = compile({ weekly: {}, holidays: [] })
  t.equal(nextAllowedInAll(never, ['Asia/Shanghai'], iso('2026-06-01T00:00:00Z')), undefined)
})

t.test('malformed hours are listed, not thrown', async (t) => {
  const bad = compileCallingHours({
    weekly: { mon: [{ start: '21:00', end: '09:00' }], funday: [], tue: 'all day' },
    holidays: ['2026-13-01', 5],
  } as unknown as CallingHours)
  t.notOk(bad.ok)
  if (!bad.ok) t.equal(bad.errors.length, 5, bad.errors.join('\n'))
  t.notOk(compileCallingHours(null).ok)
  t.ok(compileCallingHours({ weekly: { mon: [{ start: '00:00', end: '24:00' }] }, holidays: [] }).ok, '24:00 end')
})
