import t from 'tap'
import { VirtualClock } from '../engine/clock.js'

t.test('virtual clock fires timers in time then insertion order and reads whole milliseconds', async (t) => {
  const c = new VirtualClock(1000)
  const fired: string[] = []
  c.setTimeout(() => fired.push('b@20'), 20)
  c.setTimeout(() => fired.push('a@10'), 10)
  c.setTimeout(() => fired.push('c@20'), 20)
  const h = c.setTimeout(() => fired.push('cancelled'), 15)
  c.clearTimeout(h)
  c.setTimeout(() => fired.push(`frac@${c.now()}`), 7.6)
  t.equal(c.nextAt(), 1008)
  c.advanceBy(25)
  t.same(fired, ['frac@1008', 'a@10', 'b@20', 'c@20'])
  t.equal(c.now(), 1025)
  t.ok(Number.isInteger(c.now()))
})

t.test('timers set while firing run in order within the same advance', async (t) => {
  const c = new VirtualClock(0)
  const seen: number[] = []
  c.setTimeout(() => {
    seen.push(c.now())
    c.setTimeout(() => seen.push(c.now()), 5)
  }, 5)
  c.runUntilIdle()
  t.same(seen, [5, 10])
})

t.test('scaled clock runs faster than real time and fires timers on its own scale', async (t) => {
  const { ScaledClock } = await import('../engine/clock.js')
  const c = new ScaledClock(100, 0)
  const order: string[] = []
  const before = c.now()
  await new Promise<void>((resolve) => {
    c.setTimeout(() => order.push('short'), 500)
    c.setTimeout(() => {
      order.push('long')
      resolve()
    }, 1000)
  })
  t.same(order, ['short', 'long'], 'timers fire in virtual-time order')
  t.ok(c.now() > before, 'virtual time moved on')
  t.throws(() => new ScaledClock(0), /speed must be a positive number/)
})
