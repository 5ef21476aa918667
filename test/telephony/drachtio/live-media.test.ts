/**
 * The engine hears live calls (issue 3, issue 5 §3): DrachtioTelephony with a real rtpengine (userspace) anchoring
 * every call, the engine's side of each call on media analysis's RtpSocket (CallListener), sipp as the carrier's
 * signalling through the drachtio double, and the carrier's audio sent by a test-controlled RTP peer from the port
 * its SDP names, playing recordings of the media corpus (test/fixtures/make-corpus.sh, held-out split):
 * - a SIT in the 183's early media: the attempt is CANCELled, `failed` says invalid-number with what was heard, the
 *   number is learned by the path a SIP 404 takes (the CDR into screening's Redis memory), no answer, no agent;
 * - ringback only in the 183, then an answer and a machine's greeting: no false hit, amd-result machine;
 * - a person's "喂?" after the answer: amd-result human, then bridged to an agent's nailed-up session;
 * - AMD hearing no audio at all still decides (timeout), at the time AMD's thresholds allow, on the injected clock.
 * After each: every rtpengine session deleted (rtpengine's own `list`), nothing left in the adapter or the socket.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { testPii } from '../../fixtures/pii.js'
import { phoneHasher } from '../../../engine/store/redis/dnc-store.js'
import { newCall, step } from '../../../engine/calls/lifecycle.js'
import { toCdr } from '../../../engine/calls/cdr.js'
import { learnedFromCdr } from '../../../engine/campaign/invalid-number-learning.js'
import { RealClock, VirtualClock } from '../../../engine/clock.js'
import { DEFAULT_AMD_THRESHOLDS } from '../../../engine/media/amd.js'
import { CallListener } from '../../../engine/media/call-listener.js'
import { loadAnnouncementTemplates } from '../../../engine/media/announcement-templates.js'
import { RtpSocket } from '../../../engine/media/rtp-socket.js'
import type { Template } from '../../../engine/media/template-matcher.js'
import { RedisInvalidNumberStore } from '../../../engine/store/redis/invalid-numbers.js'
import { AgentSessionEvents, AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { AMD_NO_AUDIO_GRACE_MS } from '../../../engine/telephony/drachtio/drachtio-telephony.js'
import type { CallMediaListener, Listening } from '../../../engine/telephony/drachtio/call-media-listener.js'
import type { AmdResultEvent, EndedEvent, FailedEvent } from '../../../engine/telephony/port.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { NgPool } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { announcementsDir } from '../../fixtures/announcements.js'
import { CORPUS_DIR, loadCorpus, type CorpusItem } from '../../fixtures/corpus.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'
import { CarrierFacingAnchor } from './media-fixture.js'
import { RtpPeer } from './rtp-peer.js'
import { carrierScenario, gateway, harness, request } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const corpus = loadCorpus()
/** The first held-out recording with this label (and detail text), as raw µ-law. */
function audio(label: string, detail = ''): { item: CorpusItem; ulaw: Uint8Array } {
  const item = corpus.find((c) => c.split === 'heldout' && c.label === label && c.detail.includes(detail))
  if (!item) throw new Error(`no held-out corpus item ${label} ${detail}`)
  return { item, ulaw: new Uint8Array(readFileSync(join(CORPUS_DIR, item.file))) }
}

const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())

// the engine's own side of every call: media analysis's socket, as sip-engine.ts builds it
const socketErrors: Error[] = []
const rtp = new RtpSocket({ onError: (e) => void socketErrors.push(e) })
const rtpPort = (await rtp.bind()).port
t.teardown(() => rtp.close())
const ENGINE_SDP = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${rtpPort} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')

/** CallListener, with a record of what each call's analyses heard. */
class RecordedListener implements CallMediaListener {
  readonly opened: Array<{ kind: 'screen' | 'amd'; callId: string; listening: Listening }> = []
  private readonly inner: CallListener
  constructor(templates?: Template[]) {
    this.inner = new CallListener({ socket: rtp, ...(templates ? { templates } : {}) })
  }
  screen(...a: Parameters<CallMediaListener['screen']>): Listening {
    const listening = this.inner.screen(...a)
    this.opened.push({ kind: 'screen', callId: a[0].callId, listening })
    return listening
  }
  amd(...a: Parameters<CallMediaListener['amd']>): Listening {
    const listening = this.inner.amd(...a)
    this.opened.push({ kind: 'amd', callId: a[0].callId, listening })
    return listening
  }
  packets(kind: 'screen' | 'amd', callId: string): number {
    return this.opened.filter((o) => o.kind === kind && o.callId === callId).reduce((n, o) => n + (o.listening.stats?.packets ?? 0), 0)
  }
}

async function rtpengineCalls(): Promise<string[]> {
  return (await pool.command(engine, 'list', { limit: 100 })).calls ?? []
}

async function peerFor(t: { teardown(fn: () => unknown): void }): Promise<RtpPeer> {
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  return peer
}

t.test('a SIT in the early media: CANCEL, failed invalid-number with what was heard, the number learned, no agent', async (t) => {
  const sit = audio('sit-VC')
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener()
  const peer = await peerFor(t)
  const gw = await gateway('carrier-early-media-cancelled.xml', { rtp_port: String(peer.port) })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, listener })
  t.teardown(() => h.close())
  const req = request({ number: '+8613800138000' })
  await h.port.originate(req)
  await h.waitFor('early-media', req.callId)
  // the screen opens as soon as rtpengine has the 183's SDP (the anchor then knows where the audio comes from)
  await until(() => anchor.engineFacing(req.callId) !== undefined, 'rtpengine to take the early media SDP')
  // a carrier's intercept: the SIT, again and again, until someone hangs up
  peer.play(sit.ulaw, true)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)

  const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
  t.equal(failed.cause, 'invalid-number', 'a vacant code is an invalid number')
  t.equal(failed.earlyMedia?.reason, 'sit-vacant-code', 'the SIT heard, with its code')
  t.match(failed.earlyMedia?.detail, /^SIT VC /, 'and its detail')
  t.equal(failed.sipStatus, 487, 'the raw SIP status is the 487 after our CANCEL')
  t.strictSame(h.names(req.callId), ['ringing', 'early-media', 'failed'], 'never answered, so no agent was ever involved')
  t.ok(listener.packets('screen', req.callId) > 0, 'the screen heard the carrier through rtpengine')
  const run = await gw.done
  t.equal(run.code, 0, 'the carrier scenario (183, CANCEL, 487, ACK) completed')
  t.ok(run.trace.some((e) => e.dir === 'received' && e.text.startsWith('CANCEL')), 'the carrier received our CANCEL')

  // the CDR the dialer writes from this event, and what screening learns from it (the path of a SIP 404)
  let call = newCall(req.callId, req.campaignId, req.leadId, failed.at - 1000)
  call = step(call, { type: 'failed', at: failed.at, cause: failed.cause, sipStatus: failed.sipStatus, sipReason: failed.sipReason, earlyMedia: failed.earlyMedia }, { amd: false, maxAgentWaitMs: 2000 }).call
  const cdr = toCdr(call)
  t.equal(cdr.outcome, 'invalid-number')
  t.equal(cdr.earlyMediaReason, 'sit-vacant-code', 'the CDR keeps what was heard')
  const entry = learnedFromCdr(cdr, req.number)
  t.equal(entry?.reason, 'unallocated', 'a vacant code means the number is not allocated')
  t.equal(entry?.source, 'sit')
  const env = redisEnv('live-media-sit')
  t.teardown(() => env.cleanup())
  const store = new RedisInvalidNumberStore(env.connect(), env.prefix, phoneHasher(testPii()))
  await store.learn(entry!)
  const lookup = await store.snapshot([req.number])
  t.equal(lookup.get(req.number)?.source, 'sit', 'screening finds the number learned from its SIT')

  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal(h.port.activeCalls(), 0)
  const double = h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
})

t.test('a carrier announcement (空号) after ringback in the early media: CANCEL, failed invalid-number, announcement heard', async (t) => {
  // the site's enrolled recordings (tune split); the call plays another recording of it (held out: other noise and
  // level, after a burst of China's ringback)
  const templates = loadAnnouncementTemplates(announcementsDir(corpus, t))
  const announcement = corpus.find((c) => c.split === 'heldout' && c.file.startsWith('c') && c.label === 'announcement-empty-number' && c.lang === 'zh')!
  const ulaw = new Uint8Array(readFileSync(join(CORPUS_DIR, announcement.file)))
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener(templates)
  const peer = await peerFor(t)
  const gw = await gateway('carrier-early-media-cancelled.xml', { rtp_port: String(peer.port) })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, listener })
  t.teardown(() => h.close())
  const req = request({ number: '+8613900139000' })
  await h.port.originate(req)
  await h.waitFor('early-media', req.callId)
  await until(() => anchor.engineFacing(req.callId) !== undefined, 'rtpengine to take the early media SDP')
  peer.play(ulaw, true)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  const failed = (await h.waitFor('failed', req.callId)) as FailedEvent
  t.equal(failed.cause, 'invalid-number')
  t.equal(failed.earlyMedia?.reason, 'announcement-empty-number', `heard: ${failed.earlyMedia?.detail ?? 'nothing'}`)
  t.match(failed.earlyMedia?.detail, /^template announcement-empty-number\//, 'matched an enrolled recording of it')
  t.strictSame(h.names(req.callId), ['ringing', 'early-media', 'failed'])
  const run = await gw.done
  t.ok(run.trace.some((e) => e.dir === 'received' && e.text.startsWith('CANCEL')), 'the carrier received our CANCEL')
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('ringback in the 183, then an answer and a machine greeting: no false hit, amd-result machine', async (t) => {
  const ringback = audio('ringback', 'tone:1:450')
  const machine = audio('machine')
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener()
  const peer = await peerFor(t)
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '6000' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, listener })
  t.teardown(() => h.close())
  const req = request({ amd: true })
  // the greeting starts the moment the carrier answers, as a voicemail system's does
  h.port.on('answered', (e) => {
    if (e.callId === req.callId) peer.play(machine.ulaw)
  })
  await h.port.originate(req)
  await h.waitFor('early-media', req.callId)
  await until(() => anchor.engineFacing(req.callId) !== undefined, 'rtpengine to take the early media SDP')
  peer.play(ringback.ulaw, true)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  await h.waitFor('answered', req.callId)
  const screened = listener.packets('screen', req.callId)
  t.ok(screened >= 100, `the screen heard the ringback for seconds (${screened} packets) and said nothing`)
  const amd = (await h.waitFor('amd-result', req.callId)) as AmdResultEvent
  t.equal(amd.outcome, 'machine', `AMD: ${amd.reason}`)
  t.match(amd.reason, /long greeting/)
  t.strictSame(h.names(req.callId), ['ringing', 'early-media', 'answered', 'amd-result'], 'no failed: ringback is no SIT')
  t.ok(listener.packets('amd', req.callId) > 0, 'AMD heard the greeting through rtpengine')
  // the dialer hangs up on a machine (lifecycle: machine → hangup); so does this test
  await h.port.hangup(req.callId, 'amd-machine')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  t.equal((await gw.done).code, 0, 'the carrier got our BYE')
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal(h.port.activeCalls(), 0)
})

t.test('a person says "喂?" after the answer: amd-result human, then bridged to the agent', async (t) => {
  const ringback = audio('ringback', 'tone:1:450')
  const human = audio('human', 'wei2?')
  const env = redisEnv('live-media-human')
  t.teardown(() => env.cleanup())
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener()
  const peer = await peerFor(t)
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '2000' })
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(gw)],
    media: anchor,
    listener,
    agents: { sessionId: (agentId) => sessions.sessionId(agentId) },
  })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  await store.apply('agent-7', { callId: 'reg-1', cseq: 1 }, [{ uri: `sip:agent7@127.0.0.1:${phone.port}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
  sessions.login('agent-7')
  const { sessionId } = await up

  const req = request({ amd: true })
  h.port.on('answered', (e) => {
    if (e.callId === req.callId) peer.play(human.ulaw)
  })
  // what the dialer does with a human (lifecycle: human → waiting-agent → route → bridge)
  const bridged = new Promise<void>((resolve, reject) => {
    h.port.on('amd-result', (e) => {
      if (e.callId === req.callId && e.outcome === 'human') h.port.bridge(req.callId, 'agent-7').then(resolve, reject)
    })
  })
  await h.port.originate(req)
  await h.waitFor('early-media', req.callId)
  await until(() => anchor.engineFacing(req.callId) !== undefined, 'rtpengine to take the early media SDP')
  peer.play(ringback.ulaw, true)
  peer.sendTo(anchor.carrierFacing.get(req.callId)!)
  const amd = (await h.waitFor('amd-result', req.callId)) as AmdResultEvent
  t.equal(amd.outcome, 'human', `AMD: ${amd.reason}`)
  t.match(amd.reason, /short greeting/)
  await bridged
  t.strictSame(h.names(req.callId), ['ringing', 'early-media', 'answered', 'amd-result', 'bridged'])
  t.equal(listener.opened.filter((o) => o.callId === req.callId && o.kind === 'amd').length, 1, 'one AMD stream')

  await h.port.hangup(req.callId, 'test')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  await until(() => anchor.anchored() === 1, 'the customer\'s media to be released')
  t.strictSame(await rtpengineCalls(), [sessionId], 'rtpengine holds only the agent session')
  await sessions.logout('agent-7')
  await until(() => anchor.anchored() === 0, 'the session media to be released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal((await gw.done).code, 0, 'the carrier got our BYE')
  t.equal((await phone.done).code, 0)
})

t.test('the campaign\'s AMD thresholds reach the live call\'s AMD', async (t) => {
  const human = audio('human', 'wei2?')
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener()
  const peer = await peerFor(t)
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '10' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, listener })
  t.teardown(() => h.close())
  // a campaign that waits longer after a greeting before calling it a person
  const req = request({ amd: true, amdThresholds: { afterGreetingSilenceMs: 1500 } })
  h.port.on('answered', (e) => {
    if (e.callId === req.callId) {
      peer.play(human.ulaw)
      peer.sendTo(anchor.carrierFacing.get(req.callId)!)
    }
  })
  await h.port.originate(req)
  const amd = (await h.waitFor('amd-result', req.callId)) as AmdResultEvent
  t.equal(amd.outcome, 'human', `AMD: ${amd.reason ?? ''}`)
  t.match(amd.reason, /then 1500ms silence$/, 'decided on the campaign\'s silence, not the default 800 ms')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.equal((await gw.done).code, 0)
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('a carrier that answers, then plays a SIT: hung up before AMD calls it a person, ended with what was heard', async (t) => {
  const sit = audio('sit-VC')
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener()
  const peer = await peerFor(t)
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '10' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, listener })
  t.teardown(() => h.close())
  const req = request({ amd: true })
  h.port.on('answered', (e) => {
    if (e.callId === req.callId) {
      peer.play(sit.ulaw)
      peer.sendTo(anchor.carrierFacing.get(req.callId)!)
    }
  })
  await h.port.originate(req)
  const ended = (await h.waitFor('ended', req.callId)) as EndedEvent
  t.equal(ended.endedBy, 'system')
  t.equal(ended.earlyMedia?.reason, 'sit-vacant-code', `heard: ${ended.earlyMedia?.detail ?? 'nothing'}`)
  t.notOk(h.names(req.callId).includes('amd-result'), 'AMD never said person (a SIT then silence looks like a short greeting)')
  const run = await gw.done
  t.equal(run.code, 0)
  t.ok(run.trace.some((e) => e.dir === 'received' && e.text.startsWith('BYE')), 'the carrier received our BYE')
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('AMD that hears no audio at all decides timeout once its analysis time is over, on the injected clock', async (t) => {
  const clock = new VirtualClock(Date.now())
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  const listener = new RecordedListener()
  const peer = await peerFor(t) // named in the SDP, never sends
  const gw = await gateway('carrier-early-media-answer.xml', { rtp_port: String(peer.port), answer_ms: '10' })
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor, listener, clock })
  t.teardown(() => h.close())
  const req = request({ amd: true })
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await until(() => listener.opened.some((o) => o.kind === 'amd' && o.callId === req.callId), 'AMD to start listening')
  const wait = DEFAULT_AMD_THRESHOLDS.totalAnalysisMs + AMD_NO_AUDIO_GRACE_MS
  clock.advanceBy(wait - 1)
  t.notOk(h.names(req.callId).includes('amd-result'), 'no decision before AMD\'s time is over')
  clock.advanceBy(1)
  const amd = (await h.waitFor('amd-result', req.callId)) as AmdResultEvent
  t.equal(amd.outcome, 'timeout', 'timeout, which the dialer treats as a person (never hangs up on one)')
  t.match(amd.reason, /no audio/)
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.equal((await gw.done).code, 0)
  await until(() => anchor.anchored() === 0, 'the call media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('nothing in the audio crashed the socket', async (t) => {
  t.strictSame(socketErrors, [])
})
