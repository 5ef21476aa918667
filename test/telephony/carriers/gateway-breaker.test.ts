/** The gateway circuit breaker on a VirtualClock, and DrachtioTelephony skipping an open gateway (double + sipp). */
import t from 'tap'
import { RealClock, VirtualClock } from '../../../engine/clock.js'
import { GatewayBreaker } from '../../../engine/telephony/carriers/gateway-breaker.js'
import { gateway, harness, request } from '../drachtio/telephony-harness.js'

t.test('opens after the threshold, half-opens after the cooldown, closes on success', async (t) => {
  const clock = new VirtualClock(0)
  const b = new GatewayBreaker(clock, 2, 1000)
  const gws = [{ address: 'a' }, { address: 'b' }]
  b.record('a', false)
  t.notOk(b.isOpen('a'), 'one failure is not enough')
  b.record('a', false)
  t.ok(b.isOpen('a'))
  t.strictSame(b.order(gws).map((g) => g.address), ['b'], 'an open gateway is skipped')
  b.record('b', false)
  b.record('b', false)
  t.strictSame(b.order(gws).map((g) => g.address), ['a', 'b'], 'all open: try them all anyway')
  clock.advanceBy(1000)
  t.notOk(b.isOpen('a'), 'half-open after the cooldown')
  b.record('a', false)
  t.ok(b.isOpen('a'), 'one more failure opens it again')
  clock.advanceBy(1000)
  b.record('a', true)
  b.record('a', false)
  t.notOk(b.isOpen('a'), 'a success reset the count')
})

t.test('DrachtioTelephony skips a gateway whose breaker is open', async (t) => {
  const gw1 = await gateway('carrier-reject.xml', { status: '503', reason: 'Service Unavailable' }, 4, 2)
  const gw2 = await gateway('carrier-answer-wait-bye.xml', {}, 30, 2)
  const breaker = new GatewayBreaker(new RealClock(), 1, 60_000)
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw1, gw2)], breaker })
  t.teardown(() => h.close())
  for (const req of [request(), request()]) {
    await h.port.originate(req)
    await h.waitFor('answered', req.callId)
    await h.port.hangup(req.callId, 'test')
    await h.waitFor('ended', req.callId)
  }
  t.equal((await gw2.done).code, 0, 'the healthy gateway took both calls')
  const invites = (await gw1.done).trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE'))
  t.equal(invites.length, 1, 'the failing gateway was tried once, then skipped')
})
