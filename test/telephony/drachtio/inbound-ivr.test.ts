/**
 * Inbound calls through the IVR into an ACD queue (issue 5 §5, scenario "inbound IVR with DTMF into a queue"), with
 * the drachtio double, a real rtpengine, the real ACD in Redis and the engine's real RTP socket: a sipp caller whose
 * media is the test's RTP peer hears the menu prompt (checked against the WAV), presses 1 as RFC 4733 events, waits in
 * the sales queue hearing the music until an agent with the skill is ready, and is joined to that agent's nailed-up
 * session (a sipp phone echoing what it hears: the caller hears themself back). Then: a caller who hangs up while
 * queued is a lost call, with its wait; a number we do not serve is refused with a 404; nothing is left in rtpengine.
 * The call with the agent is recorded by rtpengine (pcap method), told to the recording policy once, filed under the
 * inbound CDR's ids; the lost call is not recorded.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { findRecordingSegments } from '../../../engine/recordings/rtpengine-files.js'
import type { CallRecorded, RecordingStarted } from '../../../engine/telephony/drachtio/call-recording.js'
import t from 'tap'
import type { Cdr } from '../../../engine/calls/cdr.js'
import { RealClock } from '../../../engine/clock.js'
import { RtpSocket } from '../../../engine/media/rtp-socket.js'
import { AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { InboundCalls } from '../../../engine/telephony/drachtio/inbound-calls.js'
import { AcdInboundQueue } from '../../../engine/telephony/inbound/acd-inbound-queue.js'
import { validateInboundNumbers } from '../../../engine/telephony/inbound/ivr.js'
import { PromptLibrary } from '../../../engine/telephony/prompts/prompt-library.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { RedisAcd } from '../../../engine/store/redis/redis-acd.js'
import { RedisQueuePositions } from '../../../engine/store/redis/inbound-queue-positions.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { bestMatch, CarrierFacingAnchor, nailUp, promptSamples, rtpengineFixture } from './media-fixture.js'
import { RtpPeer } from './rtp-peer.js'
import { carrierScenario, gateway, harness } from './telephony-harness.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const recordingDir = mkdtempSync(join(tmpdir(), 'cadence-inbound-rec-'))
t.teardown(() => rmSync(recordingDir, { recursive: true, force: true }))
const rtpe = await rtpengineFixture(t, logger, { recordingDir })
const { pool } = rtpe
const rtp = new RtpSocket({ host: '127.0.0.1' })
const bound = await rtp.bind()
t.teardown(() => rtp.close())
// the engine side of every call, as the SIP engine's: the RTP socket, with telephone-event offered
const ENGINE_SDP = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${bound.port} RTP/AVP 0 8 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n')
const prompts = new PromptLibrary()
const NUMBER = '4008001234'
/** A number that takes messages once a short wait is over. */
const VOICEMAIL_NUMBER = '4008005678'
/** A number whose menu lets a silent caller go after one play (the reconnect test). */
const QUICK_NUMBER = '4008009000'
const numbers = validateInboundNumbers([
  { number: NUMBER, campaignId: 'camp-inbound', menu: { prompt: 'ivr-menu', options: { '1': { queue: 'sales' }, '2': { queue: 'service' } }, timeoutMs: 5000, retries: 2 }, maxWaitMs: 60_000, overflowPrompt: 'queue-overflow' },
  { number: QUICK_NUMBER, campaignId: 'camp-inbound', menu: { prompt: 'ivr-menu', options: { '1': { queue: 'sales' } }, timeoutMs: 4000, retries: 0 }, maxWaitMs: 60_000, overflowPrompt: 'queue-overflow' },
  { number: VOICEMAIL_NUMBER, campaignId: 'camp-voicemail', menu: { prompt: 'ivr-menu', options: { '2': { queue: 'service' } }, timeoutMs: 5000, retries: 2 }, maxWaitMs: 1000, overflowPrompt: 'queue-overflow', voicemail: { prompt: 'voicemail', maxMessageMs: 60_000 } },
])

/**
 * How well what the caller heard matches the prompt's first half second (a short prompt's last packets may be cut by
 * what rtpengine plays next; the start is what tells which prompt it was).
 */
function heardPrompt(peer: { heard: Buffer[] }, prompt: string): number {
  return bestMatch(peer.heard, promptSamples(prompt), 4000)
}

/** `t1Ms`: the double's SIP T1 (its 408 for an in-dialog request nobody answers comes after 64*T1). */
async function site(t: { teardown(fn: () => unknown): void }, name: string, o: { t1Ms?: number } = {}) {
  const env = redisEnv(name)
  t.teardown(() => env.cleanup())
  const redis = env.connect()
  const anchor = new CarrierFacingAnchor(pool, () => ENGINE_SDP, logger)
  // no outbound calls here: the adapter only needs a trunk to exist
  const h = await harness({ trunks: () => [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:9' }] }], media: anchor, ...(o.t1Ms !== undefined ? { t1Ms: o.t1Ms } : {}) })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  const sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  const acd = new RedisAcd({ redis, keys: env.keys })
  const cdrs: Cdr[] = []
  const callbacks: string[] = []
  // positions shared through Redis, as the SIP engine shares them between engines
  const positions = new RedisQueuePositions(redis, env.keys)
  const recordingsStarted: RecordingStarted[] = []
  const recorded: CallRecorded[] = []
  const inbound = new InboundCalls({
    connection: h.conn,
    media: anchor,
    rtp,
    numbers,
    agents: sessions,
    acd: new AcdInboundQueue(acd),
    cdrs: { write: async (c) => (cdrs.push(c), true) },
    ownerOf: async () => undefined,
    requestCallback: async (r) => void callbacks.push(r.callId),
    positions,
    recording: { wanted: (campaignId) => campaignId === 'camp-inbound', onRecordingStarted: (r) => void recordingsStarted.push(r), onRecorded: (r) => void recorded.push(r) },
    prompts,
    clock,
    logger,
  })
  inbound.start()
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const sip = h.sip!
  return {
    h,
    anchor,
    sessions,
    acd,
    store,
    cdrs,
    callbacks,
    recordingsStarted,
    recorded,
    positions,
    inbound,
    clock,
    caller: (peer: RtpPeer, called: string, holdMs: number) =>
      gateway('caller-invite-media-at.xml', { rtp_port: String(peer.port), called, caller: '13800138000', hold_ms: String(holdMs) }, 60, 1, `${sip.host}:${sip.port}`),
  }
}

const rtpengineCalls = (): Promise<string[]> => rtpe.calls()

t.test('a caller hears the menu, presses 1, waits in the sales queue, and is joined to the agent who becomes ready', async (t) => {
  const s = await site(t, 'inbound-answered')
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  // the agent's phone echoes what it hears
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  await nailUp(s.sessions, s.store, 'agent-s', phone.port)
  // the agent is logged in with the sales skill but on a break: the caller will have to wait
  const now = s.clock.now()
  await s.acd.register('agent-s', now, { sales: 1 })
  await s.acd.apply('agent-s', { type: 'login', at: now, ready: false })

  const caller = await s.caller(peer, NUMBER, 40_000)
  await until(() => s.inbound.live().length === 1, 'the call to be answered')
  const callId = s.inbound.live()[0]!.callId
  peer.sendTo(s.anchor.carrierFacing.get(callId)!)
  await until(() => peer.heard.length > 150, 'three seconds of the menu')
  t.ok(heardPrompt(peer, 'ivr-menu') > 0.9, 'the caller hears the menu prompt')
  peer.pressKey('1')
  await until(() => s.inbound.live()[0]?.phase === 'queued', 'the caller to be queued for sales')
  const queuedAt = peer.heard.length
  // first their place in the queue, then the music
  await until(() => heardPrompt({ heard: peer.heard.slice(queuedAt) }, 'number-1') > 0.9, 'the caller to hear their position', 20_000)
  t.ok(heardPrompt({ heard: peer.heard.slice(queuedAt) }, 'queue-position') > 0.9, 'the queued caller hears "you are caller number"')
  const musicFrom = peer.heard.length
  await until(() => peer.heard.length > musicFrom + 150, 'three seconds in the queue')
  t.ok(heardPrompt({ heard: peer.heard.slice(musicFrom) }, 'hold-music') > 0.9, 'then the hold music')
  t.ok(heardPrompt({ heard: peer.heard.slice(musicFrom) }, 'number-2') < 0.5, 'and no other position')
  t.equal(s.cdrs.length, 0)

  // the agent comes back: the next try of the queue finds them
  await s.acd.apply('agent-s', { type: 'ready', at: s.clock.now() })
  await until(() => s.inbound.live()[0]?.phase === 'bridged', 'the caller to reach the agent')
  t.equal(s.inbound.live()[0]?.agentId, 'agent-s')
  // the machine says bridged at once; the join and the ACD follow
  for (let i = 0; i < 500 && (await s.acd.get('agent-s'))?.state !== 'on-call'; i++) await new Promise((r) => setTimeout(r, 20))
  t.match(await s.acd.get('agent-s'), { state: 'on-call', callId }, 'the ACD has the agent on this call')
  // the caller talks (a pattern of their own) and hears it back from the echoing phone
  const voice = new Uint8Array(8000 * 20)
  for (let i = 0; i < voice.length; i++) voice[i] = i % 16 < 8 ? 0x20 : 0xa0
  peer.play(voice)
  const from = peer.heard.length
  await until(() => peer.heard.slice(from).filter((p) => p.every((b) => b === 0x20 || b === 0xa0)).length > 20, 'the caller to hear the agent\'s side')

  // the agent's phone hangs up (logout): the caller is hung up, one inbound CDR
  await s.sessions.logout('agent-s')
  await until(() => s.cdrs.length === 1, 'the inbound CDR')
  const cdr = s.cdrs[0]!
  t.match(cdr, { callId, direction: 'inbound', campaignId: 'camp-inbound', agentId: 'agent-s', outcome: 'connected', abandoned: false })
  t.ok((cdr.waitSeconds ?? -1) >= 0, `its queue wait is kept (${cdr.waitSeconds} s)`)
  t.notMatch(cdr.leadId, /13800138000/, 'no phone number in the lead column')
  t.equal((await s.acd.get('agent-s'))?.state, 'wrap-up', 'the agent wraps the call up')
  t.equal((await caller.done).code, 0, 'the caller got our BYE')
  await until(() => s.anchor.anchored() === 0, 'all media released')

  // recorded from the join to the end, told once it was over, under the inbound CDR's ids
  t.equal(s.recordingsStarted.length, 1, 'the start was told once')
  t.equal(s.recorded.length, 1, 'the recording was told once')
  const rec = s.recorded[0]!
  t.match(rec, { callId, campaignId: 'camp-inbound', leadId: cdr.leadId, agentId: 'agent-s', segments: 1 })
  t.equal(rec.number, '13800138000', "the caller's number goes with it (no lead holds it); the registration seals it")
  t.equal(s.recordingsStarted[0]?.number, '13800138000')
  t.match(rec.legs, [{ party: 'customer' }, { party: 'agent', id: 'agent-s' }])
  t.ok(rec.recordedMs > 0 && rec.startedAt >= (cdr.bridgedAt ?? 0) - 1000, 'recorded from the join on')
  const segments = await findRecordingSegments(recordingDir, callId)
  t.equal(segments.length, 1, "rtpengine wrote the call's pcap")
  t.match(readFileSync(segments[0]!.metadata, 'utf8'), `call=${callId};campaign=camp-inbound;lead=inbound:${callId};agent=agent-s`)
  t.ok(statSync(segments[0]!.pcap).size > 160 * 50, 'the pcap holds packets (more than a second of audio)')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
  t.equal((await phone.done).code, 0)
})

t.test('a caller who hangs up while queued is a lost inbound call; a number we do not serve gets a 404', async (t) => {
  const s = await site(t, 'inbound-lost')
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const caller = await s.caller(peer, NUMBER, 9000)
  await until(() => s.inbound.live().length === 1, 'the call to be answered')
  const callId = s.inbound.live()[0]!.callId
  peer.sendTo(s.anchor.carrierFacing.get(callId)!)
  await until(() => peer.heard.length > 25, 'the menu to start')
  // another engine's caller has been waiting in the service queue for a while: ours is second
  await s.positions.join('service', 'other-engine-caller', s.clock.now() - 5000)
  t.teardown(() => s.positions.leave('service', 'other-engine-caller'))
  peer.pressKey('2')
  await until(() => s.inbound.live()[0]?.phase === 'queued', 'the caller to be queued for service')
  const queuedAt = peer.heard.length
  await until(() => heardPrompt({ heard: peer.heard.slice(queuedAt) }, 'number-2') > 0.9, 'the caller to hear they are second', 20_000)
  t.ok(heardPrompt({ heard: peer.heard.slice(queuedAt) }, 'number-1') < 0.5, 'counted with the other engine\'s caller ahead, not first')
  // nobody has the service skill: the caller gives up (sipp hangs up after its hold time)
  await until(() => s.cdrs.length === 1, 'the inbound CDR', 30_000)
  t.match(s.cdrs[0], { callId, direction: 'inbound', outcome: 'abandoned', abandoned: false, agentId: undefined }, 'lost: no agent, and not a dialer abandon')
  t.ok((s.cdrs[0]!.waitSeconds ?? 0) > 0, 'with the time the caller waited')
  t.equal((await caller.done).code, 0, 'the caller\'s BYE was answered')
  t.equal(s.recorded.length + s.recordingsStarted.length, 0, 'a call no agent took is not recorded')
  t.equal((await findRecordingSegments(recordingDir, callId)).length, 0, 'and rtpengine wrote nothing for it')

  const wrong = await s.caller(peer, '4008009999', 5000)
  const run = await wrong.done
  t.not(run.code, 0, 'the caller scenario expected a 200')
  t.ok(run.trace.some((e) => e.dir === 'received' && /^SIP\/2\.0 404 No Such Number/.test(e.text)), 'a number we do not serve: 404 No Such Number')
  t.equal(s.cdrs.length, 1, 'and no CDR for it')
  await until(() => s.anchor.anchored() === 0, 'all media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('past the wait, a number that takes messages plays the greeting and records the message until #', async (t) => {
  const s = await site(t, 'inbound-voicemail')
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const caller = await s.caller(peer, VOICEMAIL_NUMBER, 60_000)
  await until(() => s.inbound.live().length === 1, 'the call to be answered')
  const callId = s.inbound.live()[0]!.callId
  peer.sendTo(s.anchor.carrierFacing.get(callId)!)
  await until(() => peer.heard.length > 25, 'the menu to start')
  peer.pressKey('2')
  // nobody has the service skill: after a second in the queue the wait is over
  await until(() => s.inbound.live()[0]?.phase === 'greeting', 'the wait to run out')
  const greetingFrom = peer.heard.length
  await until(() => s.inbound.live()[0]?.phase === 'message', 'the greeting to play out', 20_000)
  t.ok(heardPrompt({ heard: peer.heard.slice(greetingFrom) }, 'voicemail') > 0.9, 'the caller heard the voicemail greeting')
  t.same(s.callbacks, [callId], 'a callback is requested as for any overflow')
  // the caller speaks (a pattern) for a while, then presses #
  const message = new Uint8Array(8000 * 3)
  for (let i = 0; i < message.length; i++) message[i] = i % 16 < 8 ? 0x20 : 0xa0
  peer.play(message)
  await until(() => s.recordingsStarted.length === 1, 'the message to be recorded')
  // a second of the message reaches rtpengine (counted by rtpengine itself) before the caller presses #
  const fromCaller = async (): Promise<number> => Object.entries(await rtpe.received(callId)).reduce((n, [tag, p]) => (tag === `cadence-${callId}` ? n : n + p), 0)
  const before = await fromCaller()
  for (let i = 0; i < 500 && (await fromCaller()) < before + 50; i++) await new Promise((r) => setTimeout(r, 20))
  peer.pressKey('#')
  await until(() => s.cdrs.length === 1, 'the inbound CDR')
  t.match(s.cdrs[0], { callId, direction: 'inbound', campaignId: 'camp-voicemail', outcome: 'abandoned', disposition: 'system:inbound-voicemail', abandoned: false, agentId: undefined })
  t.equal((await caller.done).code, 0, 'we hung up after the #')
  await until(() => s.recorded.length === 1, 'the message to be registered')
  const rec = s.recorded[0]!
  t.match(rec, { callId, campaignId: 'camp-voicemail', leadId: `inbound:${callId}`, agentId: null, segments: 1 })
  t.equal(rec.legs.length, 1, 'no agent leg: only the caller')
  t.equal(rec.legs[0]!.party, 'customer')
  const segments = await findRecordingSegments(recordingDir, callId)
  t.equal(segments.length, 1, "rtpengine wrote the message's pcap")
  t.match(readFileSync(segments[0]!.metadata, 'utf8'), `call=${callId};campaign=camp-voicemail;lead=inbound:${callId};voicemail=1`)
  // what the caller said is in the pcap: its RTP payloads carry the caller's pattern
  const pcap = readFileSync(segments[0]!.pcap)
  const pattern = Buffer.alloc(16, 0x20)
  pattern.fill(0xa0, 8)
  t.ok(pcap.includes(pattern), "the caller's voice is in the recording")
  await until(() => s.anchor.anchored() === 0, 'all media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})

t.test('after a drachtio reconnect, a caller still on the line keeps the call; one who vanished is ended with its CDR', async (t) => {
  // a short T1: the probe of the vanished caller is answered 408 long before its menu would let it go
  const s = await site(t, 'inbound-reconnect', { t1Ms: 20 })
  const double = s.h.target.double
  if (!double) {
    t.pass('real server configured: a corrupt frame is a double-only feature')
    return
  }
  const sip = s.h.sip!
  const peer = await RtpPeer.open()
  t.teardown(() => peer.close())
  const fill = { rtp_port: String(peer.port), called: QUICK_NUMBER, caller: '13800138000' }
  const stays = await gateway('caller-invite-options-wait-bye.xml', fill, 60, 1, `${sip.host}:${sip.port}`)
  await until(() => s.inbound.live().length === 1, 'the first call to be answered')
  const kept = s.inbound.live()[0]!.callId
  const vanishes = await gateway('caller-invite-vanish.xml', fill, 60, 1, `${sip.host}:${sip.port}`)
  await until(() => s.inbound.live().length === 2, 'the second call to be answered')
  const gone = s.inbound.live().find((c) => c.callId !== kept)!.callId
  t.equal((await vanishes.done).code, 0, 'the second caller went away without a BYE')

  double.injectCorruptFrame()
  await until(() => s.inbound.lastReconcile !== undefined, 'the reconnect and the inbound reconcile', 20_000)
  t.strictSame(await s.inbound.lastReconcile, { kept: [kept], ended: [gone] }, 'the caller who answers in the dialog keeps the call')
  await until(() => s.cdrs.some((c) => c.callId === gone), 'the vanished call\'s CDR')
  t.match(s.cdrs.find((c) => c.callId === gone), { direction: 'inbound', outcome: 'cancelled', disposition: 'system:inbound-no-choice' }, 'ended as a hang-up during the menu')

  // the kept caller stays silent: the menu lets them go, and our BYE reaches them over the new connection
  await until(() => s.cdrs.some((c) => c.callId === kept), 'the kept call to end by its menu', 30_000)
  const run = await stays.done
  t.equal(run.code, 0, 'the kept caller answered our probe and got our BYE')
  await until(() => s.anchor.anchored() === 0, 'all media released')
  t.strictSame(await rtpengineCalls(), [], 'rtpengine lists no session')
})
