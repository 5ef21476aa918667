/**
 * OPTIONS health checks through drachtio feeding the gateway breaker (issue 5): three sipp gateways, one answering
 * OPTIONS 200, one answering 503, one answering nothing (the double's stack gives up with a 408 after 64*T1, T1
 * shortened here; a real server takes the real 32 s). After one round the two failing gateways are open, and a call
 * on a trunk listing them first goes straight to the healthy one.
 */
import t from 'tap'
import pino from 'pino'
import { RealClock } from '../../../engine/clock.js'
import { GatewayBreaker } from '../../../engine/telephony/carriers/gateway-breaker.js'
import { GatewayHealth } from '../../../engine/telephony/carriers/gateway-health.js'
import { DrachtioOptionsProber } from '../../../engine/telephony/drachtio/options-prober.js'
import type { EndedEvent } from '../../../engine/telephony/port.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { gateway, harness, request } from './telephony-harness.js'

const OK = { options_status: '200', options_reason: 'OK' }

t.test('a gateway silent or answering 5xx to OPTIONS is opened and skipped; the healthy one takes the call', async (t) => {
  const healthy = await gateway('carrier-options-and-answer.xml', OK, 30, 2)
  const failing = await gateway('carrier-options-and-answer.xml', { options_status: '503', options_reason: 'Service Unavailable' }, 30, 1)
  const silent = await gateway('carrier-silent.xml', {}, 60, 1)
  const breaker = new GatewayBreaker(new RealClock(), 3, 600_000)
  const h = await harness({ trunks: ({ trunk }) => [trunk(silent, failing, healthy)], breaker, t1Ms: 20 })
  t.teardown(async () => {
    silent.kill()
    await h.close()
  })
  const health = new GatewayHealth({
    trunks: [h.trunk(silent, failing, healthy)],
    breaker,
    prober: new DrachtioOptionsProber(h.conn),
    clock: new RealClock(),
    logger: pino({ level: 'silent' }),
    canProbe: () => h.conn.connected,
  })
  const reports = await health.probeAll()
  const byPort = (p: number) => reports.find((r) => r.gateway === `127.0.0.1:${p}`)
  t.match(byPort(healthy.port), { up: true, result: { kind: 'response', status: 200 } })
  t.match(byPort(failing.port), { up: false, result: { kind: 'response', status: 503 } })
  t.match(byPort(silent.port), { up: false, result: { kind: 'response', status: 408 } }, 'the stack gave up on the silent one')
  t.ok(breaker.isOpen(`127.0.0.1:${silent.port}`) && breaker.isOpen(`127.0.0.1:${failing.port}`), 'both failing gateways open')
  t.notOk(breaker.isOpen(`127.0.0.1:${healthy.port}`))

  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.hangup(req.callId, 'test')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'], 'no crank-back: the first INVITE went to the healthy gateway')

  const healthyRun = await healthy.done
  t.equal(healthyRun.code, 0, 'the healthy gateway answered its OPTIONS and took the call')
  const options = healthyRun.trace.find((e) => e.dir === 'received' && e.text.startsWith('OPTIONS'))?.text ?? ''
  t.match(options, new RegExp(`^OPTIONS sip:127\\.0\\.0\\.1:${healthy.port} SIP/2\\.0`), 'OPTIONS to the gateway address')
  t.match(options, /\nUser-Agent: cadence-health/)
  const failingRun = await failing.done
  t.notOk(failingRun.trace.some((e) => e.dir === 'received' && e.text.startsWith('INVITE')), 'the 503 gateway got no INVITE')
  t.equal(failingRun.code, 0, 'it answered its OPTIONS')
  silent.kill()
  const silentRun = await silent.done
  t.notOk(silentRun.trace.some((e) => e.dir === 'received' && e.text.startsWith('INVITE')), 'the silent gateway got no INVITE')
  const double = h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
})

t.test('no OPTIONS round while drachtio is disconnected: nothing recorded', async (t) => {
  const gw = await gateway('carrier-options-and-answer.xml', OK, 5, 1)
  const breaker = new GatewayBreaker(new RealClock(), 3, 600_000)
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], breaker })
  t.teardown(async () => {
    gw.kill()
    await h.close()
  })
  const prober = new DrachtioOptionsProber(h.conn)
  await h.conn.stop()
  t.match(await prober.probe({ address: `127.0.0.1:${gw.port}` }), { kind: 'not-sent' }, 'the prober refuses to send')
  const health = new GatewayHealth({
    trunks: [h.trunk(gw)],
    breaker,
    prober,
    clock: new RealClock(),
    logger: pino({ level: 'silent' }),
    canProbe: () => h.conn.connected,
  })
  t.strictSame(await health.probeAll(), [], 'the round is skipped')
  t.notOk(breaker.isOpen(`127.0.0.1:${gw.port}`))
})
