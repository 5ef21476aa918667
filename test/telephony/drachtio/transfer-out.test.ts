/**
 * Blind transfer to an outside number on the drachtio adapter, on a real rtpengine with the drachtio double and sipp:
 * a customer (the carrier's media is a test socket) talks to agent A (a sipp phone whose media is another socket);
 * the agent hands the customer to an outside number, dialled as its own call through a trunk (a third socket is the
 * outside party). A busy number leaves the customer with A; an answered one is joined to the customer and A's session
 * is free; either side hanging up ends both; nothing is left in rtpengine and every sipp scenario completes.
 */
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { OutsideTransferFailed } from '../../../engine/telephony/outside-transfer-failed.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { CarrierFacingAnchor, engineSink, nailUp, rtpengineFixture, voicePattern as voice } from './media-fixture.js'
import { RtpPeer } from './rtp-peer.js'
import { gateway, harness, request } from './telephony-harness.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await rtpengineFixture(t, logger)
const SINK_SDP = (await engineSink(t)).sdp
const OUTSIDE = '+8613800138000'

/**
 * A customer with agent A, a trunk to the outside party (`outsideScenario`, media at a socket) and, with `busyLine`,
 * one to a line that is busy (sipp waits for its one call, so only a test that dials it asks for it).
 */
async function rig(
  t: Tap,
  name: string,
  outsideScenario: string,
  fill: Record<string, string> = {},
  o: { busyLine?: boolean; phoneA?: string; minRingTimeoutMs?: number; t1Ms?: number } = {},
) {
  const env = redisEnv(name)
  t.teardown(() => env.cleanup())
  const anchor = new CarrierFacingAnchor(rtpe.pool, () => SINK_SDP, logger)
  const [customer, agentA, outside] = await Promise.all([RtpPeer.open(), RtpPeer.open(), RtpPeer.open()])
  t.teardown(() => Promise.all([customer.close(), agentA.close(), outside.close()]))
  const cv = voice(0x20, 0xa0)
  const av = voice(0x31, 0xb1)
  const ov = voice(0x42, 0xc2)
  const gws = {
    customer: await gateway('carrier-early-media-answer.xml', { rtp_port: String(customer.port), answer_ms: '200' }),
    outside: await gateway(outsideScenario, { rtp_port: String(outside.port), ...fill }, 60),
    phoneA: await gateway(o.phoneA ?? 'phone-answer-media-at.xml', { rtp_port: String(agentA.port) }, 60),
    ...(o.busyLine ? { busy: await gateway('carrier-reject.xml', { status: '486', reason: 'Busy Here' }) } : {}),
  }
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const endedListeners: Array<(agentId: string, sessionId: string) => void> = []
  const h = await harness({
    trunks: ({ trunk }) => [
      trunk(gws.customer),
      { ...trunk(gws.outside), id: 'outside-line' },
      ...(gws.busy ? [{ ...trunk(gws.busy), id: 'busy-line' }] : []),
    ],
    media: anchor,
    ...(o.minRingTimeoutMs !== undefined ? { minRingTimeoutMs: o.minRingTimeoutMs } : {}),
    ...(o.t1Ms !== undefined ? { t1Ms: o.t1Ms } : {}),
    agents: {
      sessionId: (id) => sessions.sessionId(id),
      inform: (id, headers) => sessions.inform(id, headers),
      onSessionEnded: (listener) => void endedListeners.push(listener),
    },
  })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  sessions.onSessionEnded((agentId, sessionId) => endedListeners.forEach((l) => l(agentId, sessionId)))
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const sessionA = await nailUp(sessions, store, 'agent-a', gws.phoneA.port)
  agentA.play(av.audio)
  agentA.sendTo(anchor.carrierFacing.get(sessionA)!)
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  customer.play(cv.audio)
  customer.sendTo(anchor.carrierFacing.get(req.callId)!)
  await h.port.bridge(req.callId, 'agent-a')
  const hears = async (peer: RtpPeer, v: { is: (p: Buffer) => boolean }, what: string, from = peer.heard.length, n = 25): Promise<void> =>
    until(() => peer.heard.slice(from).filter(v.is).length >= n, what)
  await hears(agentA, cv, 'A to hear the customer')
  await hears(customer, av, 'the customer to hear A')
  const legId = `${req.callId}.outside`
  /** After the call's end: agent logged out, all media released, rtpengine's list empty, every scenario done. */
  const allReleased = async (): Promise<void> => {
    await sessions.logout('agent-a')
    await until(() => anchor.anchored() === 0, 'all media released')
    t.strictSame(await rtpe.calls(), [], 'rtpengine lists no session')
    t.equal(h.port.activeCalls(), 0, 'the adapter carries no call, the outside leg included')
    for (const [what, run] of Object.entries(gws)) t.equal((await run.done).code, 0, `${what}: sipp scenario completed`)
  }
  return { h, req, legId, anchor, customer, agentA, outside, cv, av, ov, hears, sessions, allReleased }
}

t.test('transfer out: busy keeps the customer with the agent; answered joins them and frees the agent', async (t) => {
  const { h, req, legId, anchor, customer, agentA, outside, cv, av, ov, hears, sessions, allReleased } = await rig(t, 'transfer-out', 'phone-answer-media-at.xml', {}, { busyLine: true })

  const busy = await h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 15_000, trunkId: 'busy-line' }).then(
    () => undefined,
    (err: unknown) => err,
  )
  t.type(busy, OutsideTransferFailed, 'a busy number fails the transfer')
  t.equal((busy as OutsideTransferFailed).failure, 'busy')
  t.equal((busy as OutsideTransferFailed).sipStatus, 486)
  t.equal(h.port.liveCall(req.callId)?.agentId, 'agent-a', 'the call is still with A')
  await hears(customer, av, 'the customer to hear A again (off hold)')
  await hears(agentA, cv, 'A to hear the customer again')
  await t.rejects(h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 15_000, trunkId: 'no-such-trunk' }), OutsideTransferFailed, 'an unknown trunk: not connected, nothing left over')
  t.equal(h.port.liveCall(req.callId)?.agentId, 'agent-a')

  await h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 15_000, trunkId: 'outside-line' }, { customerId: 'cust-5' })
  t.equal(h.port.liveCall(req.callId)?.agentId, undefined, 'no agent of ours is on the call any more')
  outside.play(ov.audio)
  outside.sendTo(anchor.carrierFacing.get(legId)!)
  await hears(outside, cv, 'the outside party to hear the customer')
  await hears(customer, ov, 'the customer to hear the outside party')
  const aMark = agentA.heard.length
  await hears(outside, cv, 'two more seconds of the customer at the outside party', outside.heard.length, 100)
  t.equal(agentA.heard.slice(aMark).filter((p) => cv.is(p) || ov.is(p)).length, 0, 'A hears neither of them')
  t.equal(sessions.state('agent-a'), 'up', "A's session is up and free for the next customer")
  await t.rejects(h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 15_000, trunkId: 'outside-line' }), TelephonyRefused, 'no agent has it: nothing to transfer')
  t.same(h.events.filter((e) => e.event.callId === legId), [], "the outside leg's events never reached the engine")
  t.notOk(h.names(req.callId).includes('ended'), 'the customer is still on the call')

  await h.port.hangup(req.callId, 'test')
  const ended = (await h.waitFor('ended', req.callId)) as { endedBy: string }
  t.equal(ended.endedBy, 'system')
  await allReleased()
})

t.test('transfer out: the outside party hanging up ends the customer call as the business side', async (t) => {
  const { h, req, allReleased } = await rig(t, 'transfer-out-hang-up', 'phone-answer-then-hang-up.xml', { hold_ms: '1500' })
  await h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 15_000, trunkId: 'outside-line' })
  const ended = (await h.waitFor('ended', req.callId)) as { endedBy: string }
  t.equal(ended.endedBy, 'agent', 'the side the customer was talking to ended the call')
  t.equal(h.names(req.callId).filter((n) => n === 'ended').length, 1, 'ended once')
  await allReleased()
})

t.test('transfer out: the customer hanging up while the number rings cancels it; the transfer is refused, nothing left', async (t) => {
  const { h, req, legId, allReleased } = await rig(t, 'transfer-out-customer-gone', 'carrier-early-media-cancelled.xml')
  const transfer = h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 15_000, trunkId: 'outside-line' })
  const outcome = transfer.then(
    () => undefined,
    (err: unknown) => err,
  )
  // its 183 came back: a CANCEL now cannot overtake the INVITE at the far end
  await until(() => h.port.liveCall(legId)?.ringing === true, 'the outside number to be ringing')
  await h.port.hangup(req.callId, 'customer-gone')
  t.type(await outcome, TelephonyRefused, 'the transfer is refused: the call ended while the number rang')
  t.equal(h.names(req.callId).filter((n) => n === 'ended').length, 1, 'the customer call ended once')
  await allReleased()
})

t.test("the agent's phone hangs up while the outside number rings: the transfer goes on; unanswered, the call ends", async (t) => {
  // A's phone hangs up when told to (an INFO in its session); the outside number rings until our ring timeout
  const { h, req, legId, sessions, allReleased } = await rig(t, 'transfer-out-agent-gone', 'carrier-early-media-cancelled.xml', {}, {
    phoneA: 'phone-answer-media-info-hang-up.xml',
    minRingTimeoutMs: 1000,
    // the session redialled after A hung up rings a phone that is gone: its INVITE ends with the double's 408 (64 T1)
    t1Ms: 50,
  })
  const outcome = h.port.transferOut(req.callId, { number: OUTSIDE, ringTimeoutMs: 4000, trunkId: 'outside-line' }).then(
    () => undefined,
    (err: unknown) => err,
  )
  await until(() => h.port.liveCall(legId)?.ringing === true, 'the outside number to be ringing')
  await sessions.inform('agent-a', { 'X-Test': 'hang up now' })
  await until(() => sessions.state('agent-a') !== 'up', "A's phone to hang up")
  t.notOk(h.names(req.callId).includes('ended'), 'the customer is still on the line, waiting for the outside number')
  t.ok(h.port.liveCall(legId), 'which still rings')
  const failed = await outcome
  t.type(failed, OutsideTransferFailed, 'the ring ran out: not connected')
  t.equal((failed as OutsideTransferFailed).failure, 'no-answer')
  const ended = (await h.waitFor('ended', req.callId)) as { endedBy: string }
  t.equal(ended.endedBy, 'agent', 'nobody to hand the customer back to: the call ends on the business side')
  await allReleased()
})
