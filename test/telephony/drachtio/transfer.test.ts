/**
 * Blind transfer on the drachtio adapter (issue 5 §4, scenario "transfer"), on a real rtpengine with the drachtio
 * double: a customer (the test's RTP socket, named by the carrier's SDP) talks to agent A (a sipp phone echoing what
 * it hears), is transferred to agent B (another echoing sipp phone): from then on the customer's audio reaches B and
 * not A, B's echo comes back to the customer, and B's phone got an INFO in its session naming the call and the
 * customer (X-Cadence-* headers). A transfer to an agent without a session, or to the agent who has the call, is
 * refused and nothing moves. Everything is released afterwards (rtpengine's own list).
 */
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { CarrierFacingAnchor, engineSink, eventually, nailUp, rtpengineFixture, voicePattern as voice } from './media-fixture.js'
import { RtpPeer } from './rtp-peer.js'
import { carrierScenario, gateway, harness, request } from './telephony-harness.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await rtpengineFixture(t, logger)
const { pool } = rtpe
const SINK_SDP = (await engineSink(t)).sdp
const rtpengineCalls = (): Promise<string[]> => rtpe.calls()

/** Packets rtpengine received from the phone's side of an agent session (what the echoing phone sent back). */
async function phoneEchoed(sessionId: string): Promise<number> {
  return Object.entries(await rtpe.received(sessionId)).reduce((n, [tag, packets]) => (tag === `cadence-${sessionId}` ? n : n + packets), 0)
}

t.test('blind transfer: the customer goes from agent A to agent B by media, B\'s phone is told who it is', async (t) => {
  const env = redisEnv('transfer')
  t.teardown(() => env.cleanup())
  const anchor = new CarrierFacingAnchor(pool, () => SINK_SDP, logger)
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '200' })
  const phoneA = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  const phoneB = await startSipp({ scenario: carrierScenario('phone-answer-info-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(gw)],
    media: anchor,
    agents: { sessionId: (id) => sessions.sessionId(id), inform: (id, headers) => sessions.inform(id, headers) },
  })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const sessionOf: Record<string, string> = {}
  for (const [agent, phone] of [['agent-a', phoneA], ['agent-b', phoneB]] as const) sessionOf[agent] = await nailUp(sessions, store, agent, phone.port)

  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  // the customer talks: a pattern only they send, so what comes back to them is an agent's phone echoing them
  const voice = new Uint8Array(8000 * 40)
  for (let i = 0; i < voice.length; i++) voice[i] = i % 16 < 8 ? 0x20 : 0xa0
  peer.play(voice)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  await h.port.bridge(req.callId, 'agent-a')
  await eventually(async () => (await phoneEchoed(sessionOf['agent-a']!)) > 20, "agent A's phone to hear (and echo) the customer")

  await t.rejects(h.port.transfer(req.callId, 'agent-a'), TelephonyRefused, 'to the agent who has it: refused')
  await t.rejects(h.port.transfer(req.callId, 'agent-nobody'), TelephonyRefused, 'to an agent with no session: refused')
  t.equal(h.port.liveCall(req.callId)?.agentId, 'agent-a', 'nothing moved')

  await h.port.transfer(req.callId, 'agent-b', { customerId: 'cust-42', leadId: req.leadId, campaignId: req.campaignId, fromAgentId: 'agent-a' })
  t.equal(h.port.liveCall(req.callId)?.agentId, 'agent-b', 'the call is with agent B')
  await eventually(async () => (await phoneEchoed(sessionOf['agent-b']!)) > 20, "agent B's phone to hear (and echo) the customer")
  // from here on, A hears nothing more of the customer while B keeps hearing them
  const aMark = await phoneEchoed(sessionOf['agent-a']!)
  const bMark = await phoneEchoed(sessionOf['agent-b']!)
  await eventually(async () => (await phoneEchoed(sessionOf['agent-b']!)) > bMark + 100, 'two more seconds of the customer at B')
  t.ok((await phoneEchoed(sessionOf['agent-a']!)) - aMark <= 2, 'agent A no longer hears the customer')
  const heardFrom = peer.heard.length
  await until(() => peer.heard.slice(heardFrom).filter((p) => p.every((b) => b === 0x20 || b === 0xa0)).length > 20, "the customer to hear B's side")

  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.equal(sessions.state('agent-a'), 'up', "both agents' sessions outlive the customer")
  t.equal(sessions.state('agent-b'), 'up')
  await sessions.logout('agent-a')
  await sessions.logout('agent-b')
  await until(() => anchor.anchored() === 0, 'all media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal((await gw.done).code, 0)
  const runA = await phoneA.done
  const runB = await phoneB.done
  t.equal(runA.code, 0)
  t.equal(runB.code, 0, "B's phone scenario (INVITE, INFO, BYE) completed")
  const info = runB.trace.find((e) => e.dir === 'received' && e.text.startsWith('INFO'))?.text ?? ''
  t.match(info, /X-Cadence-Customer-Id: cust-42/i, 'the INFO names the customer')
  t.match(info, new RegExp(`X-Cadence-Call-Id: ${req.callId}`, 'i'), 'and the call')
  t.match(info, /X-Cadence-Transferred-By: agent-a/i, 'and who handed it on')
  t.notOk(runA.trace.some((e) => e.dir === 'received' && e.text.startsWith('INFO')), "A's phone got nothing")
})

/**
 * A customer (carrier), agents A and B with nailed-up sessions: every party is a test socket, so what each hears is
 * what reached it. The customer is with A when this returns. `phoneB`: B's phone scenario.
 */
async function consultRig(t: Tap, name: string, phoneB: string) {
  const env = redisEnv(name)
  t.teardown(() => env.cleanup())
  const anchor = new CarrierFacingAnchor(pool, () => SINK_SDP, logger)
  const [customer, agentA, agentB] = await Promise.all([RtpPeer.open(), RtpPeer.open(), RtpPeer.open()])
  t.teardown(() => Promise.all([customer.close(), agentA.close(), agentB.close()]))
  const cv = voice(0x20, 0xa0)
  const av = voice(0x31, 0xb1)
  const bv = voice(0x42, 0xc2)
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(customer.port), answer_ms: '200' })
  const phones = {
    a: await gateway('phone-answer-media-at.xml', { rtp_port: String(agentA.port) }, 60),
    b: await gateway(phoneB, { rtp_port: String(agentB.port) }, 60),
  }
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  // the adapter subscribes while it is built, before the sessions exist (they need its connection)
  const endedListeners: Array<(agentId: string, sessionId: string) => void> = []
  const h = await harness({
    trunks: ({ trunk }) => [trunk(gw)],
    media: anchor,
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
  for (const [agent, phone, peer, v] of [['agent-a', phones.a, agentA, av], ['agent-b', phones.b, agentB, bv]] as const) {
    const sessionId = await nailUp(sessions, store, agent, phone.port)
    peer.play(v.audio)
    peer.sendTo(anchor.carrierFacing.get(sessionId)!)
  }
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  customer.play(cv.audio)
  customer.sendTo(anchor.carrierFacing.get(req.callId)!)
  await h.port.bridge(req.callId, 'agent-a')
  /** Waits until `peer` has heard `n` packets of `v` after `from`. */
  const hears = async (peer: RtpPeer, v: { is: (p: Buffer) => boolean }, what: string, from = peer.heard.length, n = 25): Promise<void> =>
    until(() => peer.heard.slice(from).filter(v.is).length >= n, what)
  /** Hangs the customer up and logs both agents out: everything released, rtpengine's list empty, the carrier done. */
  const hangUpAll = async (): Promise<void> => {
    await h.port.hangup(req.callId, 'test')
    await h.waitFor('ended', req.callId)
    await sessions.logout('agent-a')
    await sessions.logout('agent-b')
    await until(() => anchor.anchored() === 0, 'all media released')
    t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
    t.equal((await gw.done).code, 0)
  }
  return { customer, agentA, agentB, cv, av, bv, phoneA: phones.a, phoneB: phones.b, h, sessions, req, hears, hangUpAll }
}

t.test('attended transfer: customer on hold while A talks to B; cancel brings A back; complete leaves the customer with B', async (t) => {
  const { customer, agentA, agentB, cv, av, bv, phoneA, phoneB, h, req, hears, hangUpAll } = await consultRig(t, 'consult', 'phone-answer-media-at.xml')
  await hears(agentA, cv, 'A to hear the customer')
  await hears(customer, av, 'the customer to hear A')

  await t.rejects(h.port.completeConsult(req.callId), TelephonyRefused, 'nothing to complete yet')
  await h.port.consult(req.callId, 'agent-b')
  await t.rejects(h.port.consult(req.callId, 'agent-b'), TelephonyRefused, 'one consultation at a time')
  await t.rejects(h.port.transfer(req.callId, 'agent-b'), TelephonyRefused, 'no blind transfer in the middle of one')
  await hears(agentB, av, 'B to hear A')
  await hears(agentA, bv, 'A to hear B')
  // from the moment B hears A, in-flight audio has landed: from here nobody hears the customer and they hear neither
  const mark = { a: agentA.heard.length, b: agentB.heard.length, c: customer.heard.length }
  await hears(agentB, av, 'two more seconds of A at B', mark.b, 100)
  t.equal(agentA.heard.slice(mark.a).filter(cv.is).length, 0, 'A does not hear the customer during the consultation')
  t.equal(agentB.heard.slice(mark.b).filter(cv.is).length, 0, 'nor does B')
  const onHold = customer.heard.slice(mark.c)
  t.equal(onHold.filter((p) => av.is(p) || bv.is(p)).length, 0, 'the customer hears neither agent')
  t.ok(onHold.length > 50, 'but hears something all along (the hold music)')

  await h.port.cancelConsult(req.callId)
  await hears(customer, av, 'the customer to hear A again')
  await hears(agentA, cv, 'A to hear the customer again')
  const bAfterCancel = agentB.heard.length
  await hears(agentA, cv, 'two more seconds of the customer at A', agentA.heard.length, 100)
  t.equal(agentB.heard.slice(bAfterCancel).filter((p) => av.is(p) || cv.is(p)).length, 0, 'B hears nothing more of either after the cancel')

  await h.port.consult(req.callId, 'agent-b')
  await hears(agentB, av, 'B to hear A in the second consultation')
  await h.port.completeConsult(req.callId, { customerId: 'cust-7' })
  t.equal(h.port.liveCall(req.callId)?.agentId, 'agent-b')
  await hears(agentB, cv, 'B to hear the customer')
  await hears(customer, bv, 'the customer to hear B')
  const aAfter = agentA.heard.length
  await hears(agentB, cv, 'two more seconds of the customer at B', agentB.heard.length, 100)
  t.equal(agentA.heard.slice(aAfter).filter((p) => cv.is(p) || bv.is(p)).length, 0, 'A is out of it')

  await hangUpAll()
  const runB = await phoneB.done
  t.equal(runB.code, 0)
  t.match(runB.trace.find((e) => e.dir === 'received' && e.text.startsWith('INFO'))?.text ?? '', /X-Cadence-Customer-Id: cust-7/i, "B's phone was told who the customer is")
  t.equal((await phoneA.done).code, 0)
})

t.test('the consulted agent hangs up: the consultation ends, the customer is back with A, and the port says so', async (t) => {
  // B's phone hangs up when the test sends it an INFO: the moment is chosen, not timed
  const { customer, agentA, bv, phoneA, phoneB, h, sessions, req, hears, cv, av, hangUpAll } = await consultRig(t, 'consult-hang-up', 'phone-answer-media-info-hang-up.xml')
  await hears(agentA, cv, 'A to hear the customer')

  await h.port.consult(req.callId, 'agent-b')
  await hears(agentA, bv, 'A to hear B')
  await sessions.inform('agent-b', { 'X-Test': 'hang up now' })
  const ended = (await h.waitFor('consult-ended', req.callId)) as { agentId: string }
  t.equal(ended.agentId, 'agent-b', 'the port names the consulted agent who left')
  await hears(customer, av, 'the customer to hear A again')
  await hears(agentA, cv, 'A to hear the customer again')
  t.equal(h.port.liveCall(req.callId)?.agentId, 'agent-a', 'A still has the call')
  t.notOk(h.names(req.callId).includes('ended'), 'the customer is still on the call')
  await t.rejects(h.port.completeConsult(req.callId), TelephonyRefused, 'nothing left to complete')

  await hangUpAll()
  t.equal((await phoneB.done).code, 0, "B's phone hung up as scripted")
  t.equal((await phoneA.done).code, 0)
})
