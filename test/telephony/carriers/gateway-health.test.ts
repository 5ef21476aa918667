/**
 * The breaker's probe rules and the OPTIONS schedule on a VirtualClock. The prober here answers from a table the test
 * sets (the schedule and bookkeeping are what is under test; the real OPTIONS path is options-health.test.ts in
 * test/telephony/drachtio, through the double and sipp).
 */
import pino from 'pino'
import t from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { GatewayBreaker } from '../../../engine/telephony/carriers/gateway-breaker.js'
import { GatewayHealth, gatewayUp, type GatewayProber, type ProbeResult } from '../../../engine/telephony/carriers/gateway-health.js'
import type { TrunkGateway } from '../../../engine/telephony/carriers/trunk.js'

t.test('which OPTIONS outcomes mean the gateway is up', async (t) => {
  const r = (status: number): ProbeResult => ({ kind: 'response', status, reason: '' })
  t.strictSame([200, 404, 405, 403, 603].map((s) => gatewayUp(r(s))), [true, true, true, true, true], 'any answer from a living stack')
  t.strictSame([408, 500, 503, 504].map((s) => gatewayUp(r(s))), [false, false, false, false])
  t.equal(gatewayUp({ kind: 'no-response' }), false)
  t.equal(gatewayUp({ kind: 'not-sent', detail: 'x' }), undefined, 'not sent says nothing about the gateway')
})

t.test('probe rules: one failed probe opens, an answer closes what probes opened, not what calls opened', async (t) => {
  const clock = new VirtualClock(0)
  const b = new GatewayBreaker(clock, 3, 1000)
  b.recordProbe('a', false)
  t.ok(b.isOpen('a'), 'one failed probe opens')
  clock.advanceBy(600)
  b.recordProbe('a', false)
  clock.advanceBy(600)
  t.ok(b.isOpen('a'), 'a further failed probe kept it open past the first cooldown')
  b.recordProbe('a', true)
  t.notOk(b.isOpen('a'), 'answered again: closed at once')
  for (let i = 0; i < 3; i++) b.record('c', false)
  t.ok(b.isOpen('c'))
  b.recordProbe('c', true)
  t.ok(b.isOpen('c'), 'OPTIONS answered does not close a breaker opened by failing calls')
  b.recordProbe('c', false)
  clock.advanceBy(999)
  b.recordProbe('c', true)
  t.ok(b.isOpen('c'), 'still the calls\' breaker')
  b.record('c', true)
  t.notOk(b.isOpen('c'), 'a call success closes it')
  b.recordProbe('d', true)
  t.notOk(b.isOpen('d'), 'a healthy unknown gateway stays closed')
})

class TableProber implements GatewayProber {
  readonly results = new Map<string, ProbeResult>()
  readonly sent: string[] = []
  readonly pending = new Map<string, (r: ProbeResult) => void>()
  hold = false
  async probe(g: TrunkGateway): Promise<ProbeResult> {
    this.sent.push(g.address)
    if (this.hold) return new Promise((resolve) => this.pending.set(g.address, resolve))
    return this.results.get(g.address) ?? { kind: 'response', status: 200, reason: 'OK' }
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

t.test('rounds every interval on the clock, each gateway once, none while one is in flight or disconnected', async (t) => {
  const clock = new VirtualClock(0)
  const breaker = new GatewayBreaker(clock, 3, 60_000)
  const prober = new TableProber()
  let connected = true
  const health = new GatewayHealth({
    trunks: [
      { id: 't1', gateways: [{ address: 'gw-a' }, { address: 'gw-b' }] },
      { id: 't2', gateways: [{ address: 'gw-b' }] },
    ],
    breaker,
    prober,
    clock,
    logger: pino({ level: 'silent' }),
    intervalMs: 10_000,
    canProbe: () => connected,
  })
  prober.results.set('gw-b', { kind: 'response', status: 503, reason: 'Service Unavailable' })
  health.start()
  await settle()
  t.strictSame(prober.sent, ['gw-a', 'gw-b'], 'a gateway shared by two trunks is pinged once per round')
  t.ok(breaker.isOpen('gw-b'))
  clock.advanceBy(9_999)
  await settle()
  t.equal(prober.sent.length, 2, 'nothing before the interval')
  prober.results.delete('gw-b')
  clock.advanceBy(1)
  await settle()
  t.strictSame(prober.sent.slice(2), ['gw-a', 'gw-b'])
  t.notOk(breaker.isOpen('gw-b'), 'answered again: closed')
  prober.hold = true
  clock.advanceBy(10_000)
  await settle()
  clock.advanceBy(10_000)
  await settle()
  t.equal(prober.sent.length, 6, 'no second ping while the first is unanswered')
  for (const resolve of prober.pending.values()) resolve({ kind: 'no-response' })
  await settle()
  t.ok(breaker.isOpen('gw-a') && breaker.isOpen('gw-b'), 'no response: open')
  prober.hold = false
  connected = false
  clock.advanceBy(10_000)
  await settle()
  t.equal(prober.sent.length, 6, 'nothing sent while disconnected')
  health.stop()
  connected = true
  clock.advanceBy(100_000)
  await settle()
  t.equal(prober.sent.length, 6, 'stopped')
})
