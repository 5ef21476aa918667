/**
 * DrachtioTelephony (issue 5) against the drachtio double with sipp as the carrier's gateways: each scenario checks
 * the port's events (same semantics as SimTelephony: one `failed` before answer or one `ended` after), the cause map,
 * crank-back, the ring timeout (the production 15 s floor, run on a VirtualClock while SIP runs for real), and that
 * nothing is left behind (no live call in the adapter, no dialog in the double, sipp saw its whole scenario).
 */
import t, { type Test } from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { MIN_RING_TIMEOUT_MS } from '../../../engine/telephony/drachtio/drachtio-telephony.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import type { FailedEvent, EndedEvent } from '../../../engine/telephony/port.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { gateway, harness, request, type Harness } from './telephony-harness.js'

async function clean(t: Test, h: Harness): Promise<void> {
  t.equal(h.port.activeCalls(), 0, 'no call left in the adapter')
  const double = h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
}

t.test('answered, then the customer hangs up (BYE from the far end)', async (t) => {
  const gw = await gateway('uas-answer-then-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [{ ...trunk(gw), numberRules: [{ match: '^\\+49', replace: '0049' }], defaultCallerId: '+4940999', callerIdRules: [{ match: '^\\+', replace: '' }] }] })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  const ended = (await h.waitFor('ended', req.callId)) as EndedEvent
  t.equal(ended.endedBy, 'customer')
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'])
  const run = await gw.done
  t.equal(run.code, 0, 'sipp played its whole scenario')
  const invite = run.trace.find((e) => e.dir === 'received' && e.text.startsWith('INVITE'))?.text ?? ''
  t.match(invite, /^INVITE sip:004930123456@127\.0\.0\.1:\d+ SIP\/2\.0/, 'the number rewritten by the trunk rule')
  t.match(invite, /\nFrom: [^\r\n]*sip:4940999@/, 'the trunk caller-ID, rewritten')
  t.match(invite, new RegExp(`X-Cadence-Call-Id: ${req.callId}`), 'our call id travels as a header')
  await clean(t, h)
})

t.test('answered, then we hang up: BYE from us, ended by system', async (t) => {
  const gw = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)] })
  t.teardown(() => h.close())
  const req = request({ callerId: '+4940111' })
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.hangup(req.callId, 'test')
  const ended = (await h.waitFor('ended', req.callId)) as EndedEvent
  t.equal(ended.endedBy, 'system')
  t.equal((await gw.done).code, 0, 'sipp got our BYE and answered it')
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'])
  await h.port.hangup(req.callId, 'again')
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'], 'a second hangup changes nothing')
  await clean(t, h)
})

const rejections: [string, string, string, FailedEvent['cause']][] = [
  ['486', 'Busy Here', 'carrier-ring-reject.xml', 'busy'],
  ['404', 'Not Found', 'carrier-reject.xml', 'invalid-number'],
  ['603', 'Decline', 'carrier-ring-reject.xml', 'rejected'],
  ['480', 'Temporarily Unavailable', 'carrier-ring-reject.xml', 'no-answer'],
]
for (const [status, reason, scenario, cause] of rejections) {
  t.test(`${status} ${reason}: failed ${cause}, raw status kept, no crank-back`, async (t) => {
    const gw = await gateway(scenario, { status, reason })
    const spare = await gateway('carrier-answer-wait-bye.xml', {}, 3)
    const h = await harness({ trunks: ({ trunk }) => [trunk(gw, spare)] })
    t.teardown(() => h.close())
    const req = request()
    await h.port.originate(req)
    const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
    t.equal(failed.cause, cause)
    t.equal(failed.sipStatus, Number(status))
    t.equal(failed.sipReason, reason)
    t.equal((await gw.done).code, 0)
    const spareRun = await spare.done
    t.notOk(spareRun.trace.some((e) => e.dir === 'received'), 'the next gateway was never tried')
    const names = h.names(req.callId)
    t.equal(names.filter((n) => n === 'failed' || n === 'ended').length, 1, 'the call ended exactly once')
    t.notOk(names.includes('answered'))
    await clean(t, h)
  })
}

t.test('503 on the first gateway, 200 on the next (crank-back)', async (t) => {
  const gw1 = await gateway('carrier-reject.xml', { status: '503', reason: 'Service Unavailable' })
  const gw2 = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw1, gw2)] })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  t.equal((await gw1.done).code, 0, 'the first gateway got its ACK')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.equal((await gw2.done).code, 0, 'the second gateway answered and got our BYE')
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'], 'the failed gateway is invisible to the engine')
  await clean(t, h)
})

t.test('503 on every gateway: failed congestion with the last status', async (t) => {
  const gw1 = await gateway('carrier-reject.xml', { status: '503', reason: 'Service Unavailable' })
  const gw2 = await gateway('carrier-reject.xml', { status: '502', reason: 'Bad Gateway' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw1, gw2)] })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
  t.equal(failed.cause, 'congestion')
  t.equal(failed.sipStatus, 502)
  t.equal((await gw1.done).code, 0)
  t.equal((await gw2.done).code, 0)
  await clean(t, h)
})

t.test('183 with SDP, then 200: ringing, early-media, answered', async (t) => {
  const gw = await gateway('uas-183-sdp-then-200.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)] })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.strictSame(h.names(req.callId), ['ringing', 'early-media', 'answered', 'ended'])
  t.equal((await gw.done).code, 0)
  await clean(t, h)
})

t.test('no answer: the production 15 s floor, CANCEL at the ring timeout, failed no-answer (487 after our CANCEL)', async (t) => {
  const clock = new VirtualClock(Date.now())
  const gw = await gateway('uas-ring-then-cancelled.xml')
  const spare = await gateway('carrier-answer-wait-bye.xml', {}, 3)
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw, spare)], clock })
  t.teardown(() => h.close())
  t.equal(MIN_RING_TIMEOUT_MS, 15_000)
  await t.rejects(h.port.originate(request({ ringTimeoutMs: 14_999 })), TelephonyRefused, 'below 15 s is refused by default')
  const req = request({ ringTimeoutMs: MIN_RING_TIMEOUT_MS })
  await h.port.originate(req)
  await h.waitFor('ringing', req.callId)
  clock.advanceBy(MIN_RING_TIMEOUT_MS - 1)
  t.notOk(h.names(req.callId).includes('failed'), 'still ringing 1 ms before the timeout')
  clock.advanceBy(1)
  const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
  t.equal(failed.cause, 'no-answer')
  t.equal(failed.sipStatus, 487)
  t.equal((await gw.done).code, 0, 'sipp got our CANCEL')
  t.notOk((await spare.done).trace.some((e) => e.dir === 'received'), 'a callee that rang is not retried elsewhere')
  await clean(t, h)
})

t.test('a gateway silent past the timeout is cancelled and the next gateway is tried', async (t) => {
  const clock = new VirtualClock(Date.now())
  const gw1 = await gateway('carrier-silent-then-cancelled.xml')
  const gw2 = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw1, gw2)], clock })
  t.teardown(() => h.close())
  const req = request({ ringTimeoutMs: 20_000 })
  await h.port.originate(req)
  const double = h.target.double
  // the INVITE must be out (the double holds its transaction) before the virtual timeout fires
  if (double) await until(() => h.target.recorder.frames.some((f) => f.dir === 'SRV=>APP' && f.payload.includes('Msg sent:') && f.payload.includes('INVITE sip:')), 'the INVITE to be sent')
  else await new Promise((r) => setTimeout(r, 500))
  clock.advanceBy(20_000)
  await h.waitFor('answered', req.callId)
  t.equal((await gw1.done).code, 0, 'the silent gateway got our CANCEL')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.equal((await gw2.done).code, 0)
  await clean(t, h)
})

t.test('hangup while ringing: CANCEL, failed cancelled', async (t) => {
  const gw = await gateway('uas-ring-then-cancelled.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)] })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('ringing', req.callId)
  await h.port.hangup(req.callId, 'campaign stopped')
  const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
  t.equal(failed.cause, 'cancelled')
  t.equal((await gw.done).code, 0)
  t.strictSame(h.names(req.callId), ['ringing', 'failed'])
  await clean(t, h)
})

t.test('not connected: originate refuses instead of dialing', async (t) => {
  const gw = await gateway('carrier-answer-wait-bye.xml', {}, 3)
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)] })
  t.teardown(() => h.close())
  await h.conn.stop()
  await t.rejects(h.port.originate(request()), /not connected to drachtio/)
  t.equal(h.port.activeCalls(), 0)
  gw.kill()
  await gw.done
})
