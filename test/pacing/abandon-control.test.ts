import fc from 'fast-check'
import t from 'tap'
import { AbandonLedger, HOUR_MS } from '../../engine/pacing/abandon.js'
import { AbandonGovernor, forwardHourGuard } from '../../engine/pacing/abandon-control.js'
import { defaultCaps, type PacingSnapshot } from '../../engine/pacing/policy.js'
import { parseScenario, trueModel } from '../../engine/telephony/sim/scenario.js'

const MIN = 60_000
const NOW = 10 * HOUR_MS
const model = trueModel(parseScenario({ name: 't' }), 0)

t.test('the ledger reports when the rolling hour’s drops happened, oldest first', async (t) => {
  const l = new AbandonLedger()
  l.record(NOW - 90 * MIN, true)
  l.record(NOW - 50 * MIN, false)
  l.record(NOW - 40 * MIN, true)
  l.record(NOW - 5 * MIN, true)
  const s = l.status(NOW)
  t.same(s.lastHourDropTimes, [NOW - 40 * MIN, NOW - 5 * MIN])
  t.equal(s.lastHourDropTimes!.length, s.lastHour.drops, 'the times agree with the count')
  t.same(l.dropTimesIn(NOW - 100 * MIN, NOW - 30 * MIN), [NOW - 90 * MIN, NOW - 40 * MIN])
})

t.test('forward hour guard: drops about to age out leave more room than fresh ones', async (t) => {
  const rate = 5.6 / 3600 // drops per second at full pace (about 3% of 200 live answers an hour)
  const old = forwardHourGuard([NOW - 58 * MIN, NOW - 57 * MIN, NOW - 56 * MIN, NOW - 55 * MIN], NOW, 6.4, rate, 1)
  const fresh = forwardHourGuard([NOW - 4 * MIN, NOW - 3 * MIN, NOW - 2 * MIN, NOW - MIN], NOW, 6.4, rate, 1)
  t.ok(old > fresh, `old ${old} > fresh ${fresh}`)
  t.ok(fresh < 0.5, `four fresh drops against a budget of 6.4 hold the pace well down (${fresh})`)
  t.equal(forwardHourGuard([], NOW, 6.4, rate, 1), 1, 'no drops in the hour: no guard')
  t.equal(forwardHourGuard(Array.from({ length: 7 }, (_, i) => NOW - i * MIN), NOW, 6.4, rate, 1), 0.02, 'over budget: near zero')
  // More margin, or a faster pace, means a tighter guard.
  const times = [NOW - 30 * MIN, NOW - 10 * MIN]
  t.ok(forwardHourGuard(times, NOW, 6.4, rate, 2) <= forwardHourGuard(times, NOW, 6.4, rate, 0.5))
  t.ok(forwardHourGuard(times, NOW, 6.4, 4 * rate, 1) <= forwardHourGuard(times, NOW, 6.4, rate, 1))
})

function snap(now: number, day: { live: number; drops: number }, dropTimes?: number[]): PacingSnapshot {
  const lastHour = { live: 200, drops: dropTimes?.length ?? 0 }
  return {
    now,
    agents: [],
    calls: [],
    linesInUse: 0,
    dialsLastSecond: 0,
    model,
    abandon: { day, thirtyDays: day, lastHour, worstHourRate: 0, ...(dropTimes ? { lastHourDropTimes: dropTimes } : {}) },
    abandonCeiling: 0.03,
    hourCeiling: 0.04,
    caps: defaultCaps,
  }
}

t.test('the governor with drop times holds back after fresh drops more than after old ones', async (t) => {
  const run = (times: number[]): number => {
    const g = new AbandonGovernor()
    // An hour of steady dialing so the governor knows the live-answer rate.
    for (let s = 0; s <= 3600; s += 10) {
      const now = NOW - HOUR_MS + s * 1000
      g.threshold(snap(now, { live: 1000, drops: 25 }, []))
      g.recordDials(now, [0.03, 0.03], 0.25)
    }
    return g.threshold(snap(NOW + 1000, { live: 1000, drops: 25 }, times))
  }
  const fresh = run([NOW - 3 * MIN, NOW - 2 * MIN, NOW - MIN, NOW])
  const old = run([NOW - 59 * MIN, NOW - 58 * MIN, NOW - 57 * MIN, NOW - 56 * MIN])
  t.ok(fresh < old, `fresh ${fresh} < old ${old}`)
})

t.test('daySpend raises the target while the day is under its setpoint share, never above it', async (t) => {
  const target = (spend: number, day: { live: number; drops: number }): number => {
    const g = new AbandonGovernor({ daySpend: spend })
    g.threshold(snap(NOW, day, []))
    return g.lastTarget
  }
  const under = { live: 1000, drops: 10 }
  t.ok(target(1.5, under) > target(1, under), 'budget left: aim higher')
  t.ok(target(1.5, under) <= 1.5 * target(1, under) + 1e-12, 'by at most the cap')
  const over = { live: 1000, drops: 40 }
  t.equal(target(1.5, over), target(1, over), 'no budget left: no boost')
})

t.test('forward hour guard: a margin over the next reactS seconds only is never tighter than one over the hour', async (t) => {
  const rate = 30 / 3600 // about 3% of 1,000 live answers an hour: a big team
  const recent = Array.from({ length: 15 }, (_, i) => NOW - (30 - 2 * i) * MIN)
  const whole = forwardHourGuard(recent, NOW, 32, rate, 2)
  const react = forwardHourGuard(recent, NOW, 32, rate, 2, 600)
  t.ok(react > whole, `a 10-minute margin (${react}) leaves a big team more pace than a full-hour one (${whole})`)
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 59 }), { maxLength: 12 }),
      fc.double({ min: 2, max: 40, noNaN: true }),
      fc.double({ min: 0.5, max: 60, noNaN: true }),
      fc.double({ min: 0, max: 3, noNaN: true }),
      fc.integer({ min: 60, max: 3600 }),
      (agesMin, budget, perHour, z, reactS) => {
        const times = [...agesMin].sort((a, b) => b - a).map((m) => NOW - m * MIN)
        const dps = perHour / 3600
        const full = forwardHourGuard(times, NOW, budget, dps, z)
        const part = forwardHourGuard(times, NOW, budget, dps, z, reactS)
        // Same guard when the margin covers the whole hour; with no margin the span does not matter.
        const same = forwardHourGuard(times, NOW, budget, dps, z, 3600)
        const noMargin = forwardHourGuard(times, NOW, budget, dps, 0, reactS)
        return part >= full - 1e-12 && Math.abs(same - full) < 1e-9 && Math.abs(noMargin - forwardHourGuard(times, NOW, budget, dps, 0)) < 1e-9
      },
    ),
  )
})
