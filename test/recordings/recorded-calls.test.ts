/**
 * A bridged call, end to end (issue 5 §6, issue 4 "engine feeds recordings"): a real rtpengine (pcap recording,
 * userspace) anchors a carrier sipp that talks and an agent phone sipp that echoes, through DrachtioTelephony and the
 * drachtio double; the call is paused and resumed, ends; its recording is registered in PostgreSQL, refused once by
 * a busy worker pool (kept on disk, registration back to pending, no attempt counted), then processed on the real
 * media workers: the campaign's keyword spotted in the customer's voice, the merged pcap compressed to Opus and
 * verified before rtpengine's files go, the recording and its hits found through the QA API.
 *
 * The campaign's keyword is a phrase cut from the carrier's own audio (sipp's g711a.pcap), so it is really said.
 */
import dgram from 'node:dgram'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../engine/clock.js'
import { RecordingPipeline, type WorkerSubmit } from '../../engine/recordings/recording-pipeline.js'
import { RecordingProcessor } from '../../engine/recordings/recording-processor.js'
import { DEFAULT_REGISTRY_POLICY } from '../../engine/recordings/recording-registry.js'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { RecordingRegistrationRepository } from '../../engine/store/sql/recording-registrations.js'
import { RecordingRepository } from '../../engine/store/sql/recordings.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { AgentSessionEvents, AgentSessions } from '../../engine/telephony/drachtio/agent-sessions.js'
import { RegistrationStore } from '../../engine/telephony/registrar/registration-store.js'
import { NgPool, type NgReply } from '../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { parsePcap } from '../../workers/pcap.js'
import { MediaWorkerPool, QueueFullError } from '../../workers/pool.js'
import { readRtpRecording } from '../../workers/rtp-recording.js'
import { pcmWav } from '../../workers/wav.js'
import { harness as apiHarness } from '../api/harness.js'
import { startSipp } from '../doubles/drachtio/replay/sipp.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { startRtpengineDaemon } from '../telephony/rtpengine/rtpengine-daemon.js'
import { carrierScenario, gateway, harness, request } from '../telephony/drachtio/telephony-harness.js'

// see test/recordings/recording-pipeline.test.ts: the native Opus addon in a worker with pg and Fastify in one process
process.env['OPUS_FORCE_WASM'] = '1'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const dir = mkdtempSync(join(tmpdir(), 'cadence-recorded-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/** 0.6 s of what the carrier says 2 s into its recording: the campaign's keyword, enrolled from the real audio. */
const carrierAudio = readRtpRecording(parsePcap(readFileSync('/usr/share/sip-tester/g711a.pcap')).datagrams).audio
const example = join(dir, 'keyword-hello.wav')
writeFileSync(example, pcmWav({ sampleRate: 8000, channels: 1, samples: carrierAudio.samples.slice(16000, 20800) }))

async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const start = Date.now()
  while (!(await cond())) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

t.test('a bridged call ends: pcap with both parties → registration → workers → Opus + QA row with keyword hits', async (t) => {
  const rtpe = await startRtpengineDaemon({ recordingDir: join(dir, 'spool') })
  t.teardown(() => rtpe.stop())
  const engine = { host: rtpe.host, port: rtpe.ngPort }
  const ng = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
  t.teardown(() => ng.close())
  const sink = dgram.createSocket('udp4')
  sink.on('message', () => undefined)
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve))
  t.teardown(() => sink.close())
  const sinkSdp = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sink.address().port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')

  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const api = await apiHarness(test.db)
  t.teardown(() => api.app.close())
  const repos = repositories(test.db, api.pii)
  const campaign = await repos.campaigns.create({ id: 'camp-rec', name: 'Recorded', settings: defaultCampaignSettings() })
  await repos.agents.create({ id: 'agent-7', name: 'Agent Seven' })

  const workers = new MediaWorkerPool({ threads: 1, maxQueue: 4 })
  t.teardown(() => workers.close())
  // a busy site's pool: the first task is refused until the test has seen the recording wait
  let busy = true
  let refused = 0
  const busyFirst: WorkerSubmit = {
    submit: (name, payload) => {
      if (busy) {
        refused++
        return Promise.reject(new QueueFullError(name, 4))
      }
      return workers.submit(name, payload)
    },
  }
  const clock = new RealClock()
  const outputDir = join(dir, 'opus')
  const pipeline = new RecordingPipeline({ pool: busyFirst, db: test.db, pii: api.pii, clock, log: logger, outputDir })
  const registrations = new RecordingRegistrationRepository(test.db)
  const recordings = new RecordingRepository(test.db, api.pii)
  const spool = join(dir, 'spool')
  mkdirSync(outputDir, { recursive: true })
  const processor = new RecordingProcessor({
    registrations,
    recordingOfCall: (callId) => recordings.getByCall(callId),
    lead: (id) => repos.leads.get(id),
    campaignSite: async (id) => (await repos.campaigns.get(id))?.siteId,
    pipeline,
    clock,
    logger,
    owner: 'engine-a',
    recordingDir: spool,
    recorded: () => true,
    keywords: (id) => (id === campaign.id ? { examples: [{ keyword: 'hello', file: example }], required: ['hello'] } : undefined),
    policy: { ...DEFAULT_REGISTRY_POLICY, retryMs: 100 },
    pollMs: 100,
  })
  processor.start()
  t.teardown(() => processor.stop())

  // the site: a carrier that talks, an agent whose phone echoes
  const env = redisEnv('recorded-calls')
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(ng, () => sinkSdp, logger)
  const carrier = await gateway('carrier-answer-talk-wait-bye.xml')
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(carrier)],
    media: anchor,
    agents: { sessionId: (agentId) => sessions.sessionId(agentId) },
    recording: processor,
  })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  await store.apply('agent-7', { callId: 'reg-rec', cseq: 1 }, [{ uri: `sip:agent7@127.0.0.1:${phone.port}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
  sessions.login('agent-7')
  const { sessionId } = await up

  const req = request({ campaignId: campaign.id })
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.bridge(req.callId, 'agent-7')
  const carrierPackets = async (): Promise<number> => {
    const q = (await ng.command(engine, 'query', { 'call-id': req.callId })) as NgReply & { tags: Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }> }
    const tag = Object.keys(q.tags).find((x) => x !== `cadence-${req.callId}`)!
    return (q.tags[tag]!.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + (s.stats?.packets ?? 0), 0)
  }
  // the keyword is said about 2 s in; the pause comes well after it, and the call lasts until the carrier is done
  await until(async () => (await carrierPackets()) >= 150, 'the carrier to talk for 4.5 s (30 ms packets)')
  await h.port.record(req.callId, false)
  await until(async () => (await carrierPackets()) >= 175, 'the carrier to talk on while paused')
  await h.port.record(req.callId, true)
  await until(async () => (await carrierPackets()) >= 210, 'the carrier to have said most of its 236 packets')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)

  // registered as the call ended, then refused by the busy pool: pending again, files on disk, no attempt counted
  await until(() => refused > 0, 'the busy pool to refuse the recording')
  const waiting = await registrations.get(req.callId)
  t.ok(waiting, 'the recording was registered')
  t.match(waiting, { campaignId: campaign.id, leadId: req.leadId, agentId: 'agent-7', segments: 2, siteId: 'default', attempts: 0 })
  t.ok(['pending', 'processing'].includes(waiting!.state), `waiting for the pool (${waiting!.state})`)
  t.match(waiting!.legs, [{ party: 'customer' }, { party: 'agent', id: 'agent-7', sessionId, source: anchor.mediaSource(sessionId) }])
  t.ok(waiting!.durationMs >= waiting!.recordedMs && waiting!.recordedMs > 0)
  const pcaps = readdirSync(join(spool, 'pcaps')).filter((f) => f.startsWith(`${req.callId}-`))
  t.equal(pcaps.length, 2, 'both pcaps are kept while the pool is busy')

  busy = false
  await until(async () => (await registrations.get(req.callId))?.state === 'done', 'the recording to be processed')
  const done = (await registrations.get(req.callId))!
  t.ok(done.recordingId, 'the registration names its recording')
  t.equal(readdirSync(join(spool, 'pcaps')).filter((f) => f.startsWith(`${req.callId}`)).length, 0, 'rtpengine\'s pcaps removed once the recording was stored')
  t.equal(readdirSync(join(spool, 'metadata')).filter((f) => f.includes(req.callId)).length, 0, 'and their metadata files')
  t.notOk(existsSync(join(spool, 'merged', `${req.callId}.pcap`)), 'the merged capture deleted after its Opus file was verified')
  t.ok(existsSync(join(outputDir, `${req.callId}.opus`)), 'the Opus file is in the output directory')

  const one = await api.app.inject({ method: 'GET', url: `/v1/recordings/${done.recordingId}`, headers: api.auth('qa') })
  t.equal(one.statusCode, 200, one.body)
  const body = one.json<{
    recording: { callId: string; agentId: string; campaignId: string; channels: number; durationMs: number; requiredMissing: string[] }
    keywordHits: Array<{ keyword: string; party: string }>
  }>()
  t.match(body.recording, { callId: req.callId, agentId: 'agent-7', campaignId: campaign.id, channels: 2, format: 'opus' })
  t.ok(body.keywordHits.some((k) => k.keyword === 'hello' && k.party === 'customer'), `the keyword heard in the customer's voice (${JSON.stringify(body.keywordHits)})`)
  t.strictSame(body.recording.requiredMissing, [], 'the required phrase was said')
  // the pause stays in the audio as silence of its length: the recording is longer than the time recorded
  t.ok(body.recording.durationMs > done.recordedMs, `${body.recording.durationMs} ms of audio for ${done.recordedMs} ms recorded`)
  const found = await api.app.inject({ method: 'GET', url: `/v1/recordings?keyword=hello&campaignId=${campaign.id}`, headers: api.auth('qa') })
  t.same(found.json<{ items: Array<{ callId: string }> }>().items.map((i) => i.callId), [req.callId], 'QA finds the call by its keyword')
  const audio = await api.app.inject({ method: 'GET', url: `/v1/recordings/${done.recordingId}/audio`, headers: { ...api.auth('qa'), range: 'bytes=0-3' } })
  t.equal(audio.rawPayload.toString('latin1'), 'OggS', 'playback serves the Ogg Opus file')

  await sessions.logout('agent-7')
  await until(() => anchor.anchored() === 0, 'every anchored call released')
  t.strictSame((await ng.command(engine, 'list', { limit: 100 })).calls ?? [], [], 'rtpengine lists no session')
  await carrier.done
  await phone.done
})
