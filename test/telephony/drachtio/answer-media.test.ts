/**
 * What bench/sip found in DrachtioTelephony (issue 5), against the drachtio double with sipp as the carrier:
 * - `answered` comes only after the media anchor has the carrier's answer, so whoever acts on it at once (the engine
 *   bridges from its answered listener) finds the media ready; its `at` is still the time of the 200 OK;
 * - a media anchor that cannot take the offer fails the call as congestion (503 "Media relay unavailable") before any
 *   INVITE, not as trunk-unavailable;
 * - an answered call whose far end never hangs up (its BYE lost) is ended at the maximum call length with a BYE from
 *   us and `ended` by system, run on a VirtualClock while SIP runs for real.
 */
import t from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { type MediaAnchor } from '../../../engine/telephony/drachtio/media-anchor.js'
import type { AnsweredEvent, EndedEvent, FailedEvent } from '../../../engine/telephony/port.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'
import { gateway, harness, request } from './telephony-harness.js'

/** An anchor whose answer() completes only when the test says so, and which records what it was given. */
class GatedAnchor implements MediaAnchor {
  readonly answered = new Set<string>()
  readonly asked: string[] = []
  released: string[] = []
  private gates: Array<() => void> = []
  constructor(private readonly refuseOffer = false) {}
  async offer(callId: string): Promise<string> {
    if (this.refuseOffer) throw new Error(`rtpengine offer for ${callId}: rtpengine timeout host:127.0.0.1 port:22222`)
    return APP_SDP
  }
  async answer(callId: string, remoteSdp: string): Promise<void> {
    this.asked.push(remoteSdp)
    await new Promise<void>((resolve) => this.gates.push(resolve))
    this.answered.add(callId)
  }
  open(): void {
    for (const g of this.gates.splice(0)) g()
  }
  async release(callId: string): Promise<void> {
    this.released.push(callId)
  }
}

t.test('answered is emitted only once the media anchor has the carrier answer, at the 200 OK time', async (t) => {
  const anchor = new GatedAnchor()
  const clock = new VirtualClock(Date.now())
  const gw = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, clock })
  t.teardown(() => h.close())
  const req = request()
  let anchoredWhenAnswered: boolean | undefined
  h.port.on('answered', (e) => {
    if (e.callId === req.callId) anchoredWhenAnswered = anchor.answered.has(req.callId)
  })
  await h.port.originate(req)
  await until(() => anchor.asked.length === 1, 'the carrier SDP to reach the anchor')
  const okAt = clock.now()
  t.match(anchor.asked[0], /m=audio \d+ RTP\/AVP 0/, 'the anchor got the carrier SDP of the 200 OK')
  t.strictSame(h.names(req.callId), ['ringing'], 'no answered while the anchor is still working on the answer')
  clock.advanceBy(1500)
  anchor.open()
  const answered = (await h.waitFor('answered', req.callId)) as AnsweredEvent
  t.equal(anchoredWhenAnswered, true, 'listeners of answered find the media anchored')
  t.equal(answered.at, okAt, 'answered carries the time of the 200 OK (the 2-second rule runs from there)')
  await h.port.hangup(req.callId, 'test')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  t.equal((await gw.done).code, 0)
  t.strictSame(anchor.released, [req.callId], 'media released')
})

t.test('an answered call hung up before its media was anchored still says answered, then ended', async (t) => {
  const anchor = new GatedAnchor()
  const gw = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await until(() => anchor.asked.length === 1, 'the carrier SDP to reach the anchor')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'], 'the CDR sees an answered call that ended')
  anchor.open()
  t.equal((await gw.done).code, 0, 'sipp got our BYE')
  t.equal(h.port.activeCalls(), 0)
})

t.test('a media offer that fails is congestion (503 Media relay unavailable) and no INVITE goes out', async (t) => {
  const gw = await gateway('carrier-answer-wait-bye.xml', {}, 3)
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: new GatedAnchor(true) })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
  t.equal(failed.cause, 'congestion', 'not trunk-unavailable: the trunk was never asked')
  t.equal(failed.sipStatus, 503)
  t.equal(failed.sipReason, 'Media relay unavailable')
  t.strictSame(h.names(req.callId), ['failed'])
  t.notOk((await gw.done).trace.some((e) => e.dir === 'received'), 'the carrier received nothing')
  t.equal(h.port.activeCalls(), 0)
})

t.test('a call whose BYE never comes is ended at the maximum call length: BYE from us, ended by system', async (t) => {
  const clock = new VirtualClock(Date.now())
  const maxCallMs = 4 * 3600_000
  const gw = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], clock, maxCallMs })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  clock.advanceBy(maxCallMs - 1)
  t.strictSame(h.names(req.callId), ['ringing', 'answered'], 'still up 1 ms before the limit')
  t.equal(h.port.activeCalls(), 1)
  clock.advanceBy(1)
  const ended = (await h.waitFor('ended', req.callId)) as EndedEvent
  t.equal(ended.endedBy, 'system')
  const run = await gw.done
  t.equal(run.code, 0, 'sipp got our BYE and answered it')
  t.ok(run.trace.some((e) => e.dir === 'received' && e.text.startsWith('BYE')), 'the far end received a BYE')
  t.equal(h.port.activeCalls(), 0, 'nothing kept')
  const double = h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
})

t.test('a call ended before the maximum call length leaves no timer behind', async (t) => {
  const clock = new VirtualClock(Date.now())
  const gw = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], clock, maxCallMs: 60_000 })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  clock.advanceBy(120_000)
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'ended'], 'exactly one ended')
  t.equal((await gw.done).code, 0)
})
