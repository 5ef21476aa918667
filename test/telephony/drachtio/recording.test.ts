/**
 * Bridged calls recorded by a real rtpengine (userspace, `--recording-method=pcap`) through DrachtioTelephony, the
 * drachtio double and sipp: the carrier sipp talks once answered, the agent's phone is a sipp echoing what reaches
 * it. Recording starts once the customer is joined to the agent; the pcap holds both parties (the agent's side comes
 * from the agent session's rtpengine port, which the port reports as that leg's source); a pause leaves a stretch
 * with no packet; the recording is closed before rtpengine's delete and reported once; an rtpengine error on `start
 * recording` is logged and the call goes on; rtpengine holds no session afterwards.
 */
import dgram from 'node:dgram'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t, { type Test } from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { findRecordingSegments, mergePcaps } from '../../../engine/recordings/rtpengine-files.js'
import { AgentSessionEvents, AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import type { CallRecorded, RecordingStarted } from '../../../engine/telephony/drachtio/call-recording.js'
import type { EndedEvent } from '../../../engine/telephony/port.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { NgPool, type NgReply, type RtpengineAddress } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { parsePcap } from '../../../workers/pcap.js'
import { readRtpRecording } from '../../../workers/rtp-recording.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'
import { ngFaults } from '../rtpengine/ng-faults.js'
import { carrierScenario, gateway, harness, request } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const dir = mkdtempSync(join(tmpdir(), 'cadence-recording-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const rtpe = await startRtpengineDaemon({ recordingDir: dir })
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())

const sink = dgram.createSocket('udp4')
sink.on('message', () => undefined)
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve))
t.teardown(() => sink.close())
const SINK_SDP = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sink.address().port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')

/** Packets rtpengine received from one party (tag) of a call. */
async function received(ng: NgPool, at: RtpengineAddress, callId: string, tag: string): Promise<number> {
  const q = (await ng.command(at, 'query', { 'call-id': callId })) as NgReply & { tags?: Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }> }
  return (q.tags?.[tag]?.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + (s.stats?.packets ?? 0), 0)
}

async function carrierTag(ng: NgPool, at: RtpengineAddress, callId: string): Promise<string> {
  const q = (await ng.command(at, 'query', { 'call-id': callId })) as NgReply & { tags: Record<string, unknown> }
  return Object.keys(q.tags).find((tag) => tag !== `cadence-${callId}`)!
}

/** Waits until the carrier has sent `n` more packets into the call (the call's own clock, not ours). */
async function carrierSends(ng: NgPool, at: RtpengineAddress, callId: string, n: number): Promise<void> {
  const tag = await carrierTag(ng, at, callId)
  const from = await received(ng, at, callId, tag)
  let now = from
  for (let i = 0; i < 500 && now < from + n; i++) {
    await new Promise((r) => setTimeout(r, 20))
    now = await received(ng, at, callId, tag)
  }
  if (now < from + n) throw new Error(`the carrier sent ${now - from} packets, ${n} awaited`)
}

async function listed(ng: NgPool, at: RtpengineAddress): Promise<string[]> {
  return (await ng.command(at, 'list', { limit: 100 })).calls ?? []
}

/** A logged-in agent with a nailed-up session on an echoing sipp phone, and the port with recording on. */
async function agentAndPort(t: Test, ng: NgPool, name: string) {
  const env = redisEnv(name)
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(ng, () => SINK_SDP, logger)
  const carrier = await gateway('carrier-answer-talk-wait-bye.xml')
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  const recorded: CallRecorded[] = []
  const started: RecordingStarted[] = []
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(carrier)],
    media: anchor,
    agents: { sessionId: (agentId) => sessions.sessionId(agentId) },
    recording: {
      wanted: (campaignId) => campaignId !== 'not-recorded',
      onRecordingStarted: (r) => void started.push(r),
      onRecorded: (r) => void recorded.push(r),
    },
  })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  await store.apply('agent-7', { callId: `reg-${name}`, cseq: 1 }, [{ uri: `sip:agent7@127.0.0.1:${phone.port}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
  sessions.login('agent-7')
  const { sessionId } = await up
  return { anchor, carrier, phone, h, sessions, sessionId, recorded, started }
}

t.test('a bridged call is recorded with both parties; a pause leaves a gap; the recording closes before the delete', async (t) => {
  const { anchor, carrier, phone, h, sessions, sessionId, recorded, started } = await agentAndPort(t, pool, 'rec-1')
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await t.rejects(h.port.record('no-such-call', false), TelephonyRefused, 'a call that is not up cannot be paused')
  await h.port.bridge(req.callId, 'agent-7')
  const agentSource = anchor.mediaSource(sessionId)
  t.ok(agentSource, 'the anchor knows where the agent session sends from')
  // recording starts right after the bridge; the first pcap appears under pcaps/ at once
  await until(() => readdirSafe(join(dir, 'pcaps')).some((f) => f.startsWith(`${req.callId}-`)), 'the call\'s pcap to be opened')
  await carrierSends(pool, engine, req.callId, 40)
  await h.port.record(req.callId, false)
  const pausedAt = Date.now() * 1000
  await carrierSends(pool, engine, req.callId, 40)
  const resumedAt = Date.now() * 1000
  await h.port.record(req.callId, true)
  await carrierSends(pool, engine, req.callId, 40)
  await h.port.hangup(req.callId, 'test')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  await until(() => recorded.length === 1, 'the recording to be reported')
  const r = recorded[0]!
  t.match(r, { callId: req.callId, campaignId: req.campaignId, leadId: req.leadId, agentId: 'agent-7', segments: 2 })
  t.match(r.legs, [{ party: 'customer' }, { party: 'agent', id: 'agent-7', sessionId, source: agentSource }])
  t.ok(r.endedAt >= r.startedAt && r.recordedMs > 0 && r.recordedMs <= r.endedAt - r.startedAt, 'recorded time excludes nothing it should not')
  t.notOk((await listed(pool, engine)).includes(req.callId), 'the call\'s rtpengine session was deleted')
  t.equal(started.length, 1, 'the start was told once, not again at the resume')
  t.match(started[0], { callId: req.callId, campaignId: req.campaignId, agentId: 'agent-7', startedAt: r.startedAt, legs: r.legs })

  // reported only after the delete: both segments are finished (their metadata moved into metadata/)
  const segments = await findRecordingSegments(dir, req.callId)
  t.equal(segments.length, 2, 'one pcap before the pause, one after')
  const meta = readFileSync(segments[0]!.metadata, 'utf8')
  t.match(meta, `call=${req.callId};campaign=${req.campaignId}`, 'our metadata is beside the pcap')
  t.notMatch(meta, req.number.slice(1), 'and holds no phone number')
  const merged = join(dir, `${req.callId}.merged.pcap`)
  await mergePcaps(segments.map((s) => s.pcap), merged)
  const cap = parsePcap(readFileSync(merged))
  const rec = readRtpRecording(cap.datagrams, { firstSource: agentSource! })
  t.equal(rec.parties.length, 2, `two parties in the recording (${rec.parties.map((p) => p.source).join(', ')})`)
  t.equal(rec.parties[0]!.source, agentSource, 'the agent\'s side, from the session\'s port, on the left')
  t.ok(rec.parties.every((p) => p.packets > 40), 'each party is heard')
  const times = cap.datagrams.map((d) => d.timeUs)
  t.equal(times.filter((u) => u > pausedAt && u < resumedAt).length, 0, 'nothing was recorded while paused')
  t.ok(times.some((u) => u < pausedAt) && times.some((u) => u > resumedAt), 'audio before the pause and after it')

  await sessions.logout('agent-7')
  await until(() => anchor.anchored() === 0, 'every anchored call released')
  t.strictSame(await listed(pool, engine), [], 'rtpengine lists no session')
  t.equal((await carrier.done).code, 0)
  await phone.done
})

t.test('a campaign not recorded leaves no pcap; record(on) starts one anyway', async (t) => {
  const { anchor, h, sessions, recorded } = await agentAndPort(t, pool, 'rec-2')
  const req = request({ campaignId: 'not-recorded' })
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.bridge(req.callId, 'agent-7')
  await carrierSends(pool, engine, req.callId, 20)
  t.equal(readdirSafe(join(dir, 'pcaps')).filter((f) => f.startsWith(`${req.callId}-`)).length, 0, 'not recorded')
  await h.port.record(req.callId, true)
  await carrierSends(pool, engine, req.callId, 20)
  await h.port.hangup(req.callId, 'test')
  await until(() => recorded.length === 1, 'the recording to be reported')
  t.equal(recorded[0]!.segments, 1)
  t.equal((await findRecordingSegments(dir, req.callId)).length, 1)
  await sessions.logout('agent-7')
  await until(() => anchor.anchored() === 0, 'every anchored call released')
  t.strictSame(await listed(pool, engine), [], 'rtpengine lists no session')
})

t.test('rtpengine refusing start recording is logged with the call; the call goes on and ends normally', async (t) => {
  // every ng command reaches the real rtpengine, except `start recording`, answered with an error as rtpengine does
  const faults = await ngFaults(engine, { 'start recording': { result: 'error', 'error-reason': 'Unknown call-id' } })
  t.teardown(() => faults.close())
  const faulty = new NgPool({ engines: [faults.address], logger, pingIntervalMs: 0 })
  t.teardown(() => faulty.close())
  const { anchor, h, sessions, recorded, started } = await agentAndPort(t, faulty, 'rec-3')
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.bridge(req.callId, 'agent-7')
  await until(() => h.log.some((l) => l.includes('recording not started; the call goes on unrecorded') && l.includes(req.callId)), 'the refusal to be logged')
  await carrierSends(faulty, faults.address, req.callId, 20)
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'bridged'], 'the call is still up with its agent')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  await sessions.logout('agent-7')
  await until(() => anchor.anchored() === 0, 'every anchored call released')
  t.strictSame(await listed(pool, engine), [], 'rtpengine lists no session')
  t.equal(recorded.length + started.length, 0, 'nothing recorded, nothing reported')
  t.equal((await findRecordingSegments(dir, req.callId)).length, 0)
  t.ok(faults.seen.includes('start recording') && faults.seen.includes('delete'))
})

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d)
  } catch {
    return []
  }
}

t.test('a recorded call transferred to another agent: one recording, the customer on one side and the agents on the other', async (t) => {
  const env = redisEnv('rec-transfer')
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(pool, () => SINK_SDP, logger)
  const carrier = await gateway('carrier-answer-talk-wait-bye.xml')
  const phones = await Promise.all([0, 1].map(() => startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })))
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  const recorded: CallRecorded[] = []
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(carrier)],
    media: anchor,
    agents: { sessionId: (agentId) => sessions.sessionId(agentId) },
    recording: { wanted: () => true, onRecorded: (r) => void recorded.push(r) },
  })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const sessionIds: string[] = []
  for (const [i, agent] of ['agent-7', 'agent-8'].entries()) {
    const port = phones[i]!.port
    await store.apply(agent, { callId: `reg-${agent}`, cseq: 1 }, [{ uri: `sip:${agent}@127.0.0.1:${port}`, expires: 600 }], { receivedHost: '127.0.0.1', receivedPort: port, transport: 'udp' })
    const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
    sessions.login(agent)
    sessionIds.push((await up).sessionId)
  }
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.bridge(req.callId, 'agent-7')
  await until(() => readdirSafe(join(dir, 'pcaps')).some((f) => f.startsWith(`${req.callId}-`)), 'the call\'s pcap to be opened')
  await carrierSends(pool, engine, req.callId, 40)
  await h.port.transfer(req.callId, 'agent-8')
  await carrierSends(pool, engine, req.callId, 40)
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  await until(() => recorded.length === 1, 'the recording to be reported')
  const r = recorded[0]!
  t.equal(r.agentId, 'agent-8', 'the recording names the agent who had the call last, as its CDR does')
  t.match(r.legs, [{ party: 'customer' }, { party: 'agent', id: 'agent-7', sessionId: sessionIds[0] }, { party: 'agent', id: 'agent-8', sessionId: sessionIds[1] }], 'both agents are legs of it')
  const segments = await findRecordingSegments(dir, req.callId)
  t.equal(segments.length, 1)
  const datagrams = parsePcap(readFileSync(segments[0]!.pcap)).datagrams
  const agentSources = r.legs.filter((l) => l.party === 'agent').map((l) => l.source!)
  t.equal(agentSources.length, 2, 'each agent leg knows where its session sends from')
  // the second agent's audio reaches the same rtpengine port as the first's did: the reader keeps them one party
  const audio = readRtpRecording(datagrams, { firstSource: agentSources[0]! })
  t.equal(audio.audio.channels, 2, 'two channels: the agents on one, the customer on the other')
  t.equal(audio.parties[0]!.source, agentSources[0], 'the agents first, as processing asks (the first agent leg)')
  t.ok(datagrams.some((d) => d.source === agentSources[1]), "the second agent's packets are in the pcap")
  for (const p of phones) await sessions.logout(p === phones[0] ? 'agent-7' : 'agent-8')
  await until(() => anchor.anchored() === 0, 'all media released')
})
