/**
 * play() and hold() on the drachtio adapter (issue 5 §4), on a real rtpengine (userspace) with the drachtio double:
 * the customer's media endpoint is the test's RTP peer (the carrier's SDP names it), so what the customer hears is
 * what reached that socket. A prompt is checked by its sound: the audio heard is correlated with the WAV file played.
 * Hold is checked with the agent's phone as a sipp echoing what reaches it: on hold the customer hears the music and
 * not the agent; the phone (the agent) hears nothing of the customer; off hold both hear each other again.
 */
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import type { EndedEvent } from '../../../engine/telephony/port.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { bestMatch, CarrierFacingAnchor, engineSink, nailUp, promptSamples as samplesOf, rtpengineFixture } from './media-fixture.js'
import { RtpPeer } from './rtp-peer.js'
import { carrierScenario, gateway, harness, request } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await rtpengineFixture(t, logger)
const { pool } = rtpe
const SINK_SDP = (await engineSink(t)).sdp
const rtpengineCalls = (): Promise<string[]> => rtpe.calls()

t.test('play: the customer hears the prompt file, play resolves after it, the agent-less call goes on', async (t) => {
  const anchor = new CarrierFacingAnchor(pool, () => SINK_SDP, logger)
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '200' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  await t.rejects(h.port.play(req.callId, 'no-such-prompt'), TelephonyRefused, 'an unknown prompt is refused')
  await t.rejects(h.port.play(req.callId, '../etc/passwd'), TelephonyRefused, 'a path is no prompt name')
  await t.rejects(h.port.hold(req.callId, true), TelephonyRefused, 'a call with no agent cannot be put on hold')
  const before = peer.heard.length
  await h.port.play(req.callId, 'safe-harbor')
  const prompt = samplesOf('safe-harbor')
  const heard = peer.heard.slice(before)
  t.ok(heard.length * 160 >= prompt.length - 160 * 5, `play resolved after the prompt reached the customer (${heard.length * 160} of ${prompt.length} samples)`)
  const match = bestMatch(heard, prompt)
  t.ok(match > 0.9, `what the customer heard is the prompt (correlation ${match.toFixed(3)})`)
  t.ok(bestMatch(heard, samplesOf('hold-music')) < 0.5, 'and not some other sound')
  t.equal(h.port.activeCalls(), 1, 'the call is still up: hanging up is the dialer\'s decision')
  await h.port.hangup(req.callId, 'safe-harbor-played')
  await h.waitFor('ended', req.callId)
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal((await gw.done).code, 0, 'the carrier got our BYE')
})

t.test('play on a call that is not answered is refused; a call hung up mid-prompt ends the wait', async (t) => {
  const anchor = new CarrierFacingAnchor(pool, () => SINK_SDP, logger)
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '1500' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('early-media', req.callId)
  await t.rejects(h.port.play(req.callId, 'safe-harbor'), TelephonyRefused, 'ringing: nothing to play to yet')
  await t.rejects(h.port.play('no-such-call', 'safe-harbor'), TelephonyRefused)
  await h.waitFor('answered', req.callId)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  const playing = h.port.play(req.callId, 'safe-harbor')
  await until(() => peer.heard.length > 10, 'the prompt to start reaching the customer')
  await h.port.hangup(req.callId, 'test')
  await playing
  t.pass('play resolved once the call ended, before the prompt was over')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('hold: the customer hears music and not the agent, the agent hears nothing of the customer; unhold restores both', async (t) => {
  const env = redisEnv('call-audio-hold')
  t.teardown(() => env.cleanup())
  const anchor = new CarrierFacingAnchor(pool, () => SINK_SDP, logger)
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '200' })
  // the agent's phone echoes what it hears: the customer hears their own voice back while with the agent
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, agents: { sessionId: (agentId) => sessions.sessionId(agentId) } })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const sessionId = await nailUp(sessions, store, 'agent-9', phone.port)
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  // the customer talks (a tone the test can recognise in what comes back) from the answer on
  const voice = new Uint8Array(8000 * 30)
  for (let i = 0; i < voice.length; i++) voice[i] = i % 16 < 8 ? 0x20 : 0xa0
  peer.play(voice)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  await h.port.bridge(req.callId, 'agent-9')
  // only the customer's own tone, echoed: every byte one of its two values (music never is)
  const isEcho = (p: Buffer): boolean => p.every((b) => b === 0x20 || b === 0xa0)
  await until(() => peer.heard.some(isEcho), 'the customer to hear their voice echoed by the agent\'s phone')
  const phoneTag = Object.keys(await rtpe.received(sessionId)).find((tag) => tag !== `cadence-${sessionId}`)!
  const phoneHeard = async (): Promise<number> => (await rtpe.received(sessionId))[phoneTag] ?? 0

  await h.port.hold(req.callId, true)
  t.ok(h.port.onHold(req.callId))
  await h.port.hold(req.callId, true)
  t.pass('hold twice is one hold')
  // what was in flight has arrived once the music is heard: from there on, only music
  const music = samplesOf('hold-music')
  await until(() => bestMatch(peer.heard.slice(Math.max(0, peer.heard.length - 150)), music, 8000) > 0.9, 'the hold music to reach the customer')
  const mark = peer.heard.length
  const phoneMark = await phoneHeard()
  await until(() => peer.heard.length >= mark + 150, 'three more seconds of what the customer hears')
  const onHold = peer.heard.slice(mark)
  t.equal(onHold.filter(isEcho).length, 0, 'on hold the customer hears nothing of the agent\'s side')
  t.ok(bestMatch(onHold, music, 8000) > 0.9, 'only the music')
  // the phone echoes whatever reaches it: nothing came back from it, so nothing of the customer reached it
  t.ok((await phoneHeard()) - phoneMark <= 2, `the agent's phone heard (and echoed) nothing of the customer (${(await phoneHeard()) - phoneMark} packets)`)
  await t.rejects(h.port.play(req.callId, 'safe-harbor'), TelephonyRefused, 'no prompt over the hold music')

  await h.port.hold(req.callId, false)
  t.notOk(h.port.onHold(req.callId))
  const back = peer.heard.length
  await until(() => peer.heard.slice(back).some(isEcho), 'the customer to hear the agent\'s side again')
  await until(() => peer.heard.slice(back).filter(isEcho).length > 10, 'more of the echo')
  const after = await phoneHeard()
  t.ok(after > phoneMark + 2, `the agent's phone hears the customer again (${phoneMark} -> ${after})`)

  // the call ends while on hold: everything goes with it
  await h.port.hold(req.callId, true)
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.notOk(h.port.onHold(req.callId), 'no hold state outlives the call')
  await sessions.logout('agent-9')
  await until(() => anchor.anchored() === 0, 'all media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal((await gw.done).code, 0)
  t.equal((await phone.done).code, 0)
})
