/**
 * The engine feeds recordings (issue 4, issue 5 §6), built as `npm start` builds it: createSipEngine with the
 * recording service of engine/main.ts (createRecordingService: worker pool, pipeline, keyword lists file, processor).
 * The runtime paces a progressive campaign; the lead is dialed through the drachtio double to a sipp carrier that
 * talks; a real rtpengine (pcap recording) anchors the call; the customer is bridged to the agent's session (an
 * echoing sipp phone); the call ends at the maximum call length. The recording is registered, processed on the
 * workers and stored with the campaign, the agent and the lead's number (found by QA's number search), with the
 * campaign's keyword (cut from the carrier's audio) spotted; rtpengine holds nothing afterwards.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { loadConfig } from '../../config/config.js'
import { RealClock } from '../../engine/clock.js'
import { createEngineMetrics, createProcessRegistry } from '../../engine/campaign/metrics.js'
import { createSipEngine } from '../../engine/campaign/sip-engine.js'
import { createRecordingService } from '../../engine/recordings/recording-service.js'
import { PiiCipher } from '../../engine/security/pii-cipher.js'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { KeywordHitRepository } from '../../engine/store/sql/keyword-hits.js'
import { RecordingRegistrationRepository } from '../../engine/store/sql/recording-registrations.js'
import { RecordingRepository } from '../../engine/store/sql/recordings.js'
import { AgentSessionEvents } from '../../engine/telephony/drachtio/agent-sessions.js'
import type { BridgedEvent } from '../../engine/telephony/port.js'
import { RegistrationStore } from '../../engine/telephony/registrar/registration-store.js'
import { parsePcap } from '../../workers/pcap.js'
import { readRtpRecording } from '../../workers/rtp-recording.js'
import { pcmWav } from '../../workers/wav.js'
import { engineTestEnv } from '../campaign/fixtures/engine-env.js'
import { startSipp } from '../doubles/drachtio/replay/sipp.js'
import { startTarget, until } from '../doubles/drachtio/replay/target.js'
import { carrierScenario, gateway } from '../telephony/drachtio/telephony-harness.js'
import { startRtpengineDaemon } from '../telephony/rtpengine/rtpengine-daemon.js'

// see test/recordings/recording-pipeline.test.ts: the native Opus addon in a worker with pg in one process
process.env['OPUS_FORCE_WASM'] = '1'

const CAMPAIGN_ID = 'camp-recorded'
const AGENT = 'rec-agent-1'

t.test('a campaign call through the SIP engine is recorded, registered, processed and stored for QA', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-engine-rec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const spool = join(dir, 'spool')
  // the campaign's keyword: 0.6 s of what the carrier says 2 s into its recording
  const carrierAudio = readRtpRecording(parsePcap(readFileSync('/usr/share/sip-tester/g711a.pcap')).datagrams).audio
  writeFileSync(join(dir, 'hello.wav'), pcmWav({ sampleRate: 8000, channels: 1, samples: carrierAudio.samples.slice(16000, 20800) }))
  const keywordsFile = join(dir, 'keywords.json')
  writeFileSync(keywordsFile, JSON.stringify({ campaigns: { [CAMPAIGN_ID]: { examples: [{ keyword: 'hello', file: 'hello.wav' }], required: ['hello'] } } }))

  const env = await engineTestEnv('sip-engine-rec')
  t.teardown(() => env.dispose())
  const target = await startTarget()
  t.teardown(() => target.close())
  const rtpe = await startRtpengineDaemon({ recordingDir: spool })
  t.teardown(() => rtpe.stop())
  const carrier = await gateway('carrier-options-answer-talk.xml', { options_status: '200', options_reason: 'OK' }, 60, 2)
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const logLines: string[] = []
  const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'info' }, { write: (l: string) => void logLines.push(l) })
  const config = loadConfig({
    env: {
      DATABASE_URL: 'memory',
      // the keys the environment's repositories sealed the lead's number with
      ...env.keyring.env,
      CADENCE_RECORDING_DIR: spool,
      CADENCE_RECORDING_KEYWORDS_FILE: keywordsFile,
      CADENCE_MAX_CALL_SECONDS: '5',
    },
  })
  const pii = new PiiCipher(config.pii!)
  const registry = createProcessRegistry()
  const metrics = createEngineMetrics(registry)
  const recording = createRecordingService({ config: config.recording, db: env.db, pii, clock, logger, owner: 'engine-rec-test', threads: 1, maxCallMs: config.telephony.maxCallMs, metrics })
  const sip = createSipEngine({
    clock,
    redis: env.redis,
    keys: env.keys,
    repos: env.repos,
    metrics,
    logger,
    instanceId: 'engine-rec-test',
    telephony: {
      drachtio: { host: '127.0.0.1', port: target.recorder.port, secret: target.secret },
      rtpengine: { engines: [{ host: rtpe.host, port: rtpe.ngPort }], timeoutMs: 2000, recvBufferBytes: undefined },
      trunksFile: 'in-test',
      ringTimeoutMs: 25_000,
      maxCallMs: config.telephony.maxCallMs,
    },
    trunks: { trunks: [{ id: 'carrier-a', gateways: [{ address: `127.0.0.1:${carrier.port}` }], maxChannels: 2 }], defaultTrunk: 'carrier-a' },
    recording: recording.policy,
  })
  recording.start()
  t.teardown(async () => {
    await sip.stop()
    await recording.stop()
  })
  const bridged: BridgedEvent[] = []
  sip.telephony.on('bridged', (e) => void bridged.push(e))
  await sip.connect()
  await new RegistrationStore(env.redis, env.keys.prefix, clock).apply(AGENT, { callId: 'reg-rec', cseq: 1 }, [{ uri: `sip:agent@127.0.0.1:${phone.port}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  const up = new Promise((resolve) => sip.sessions.once(AgentSessionEvents.Up, resolve))
  sip.sessions.login(AGENT)
  await up

  const settings = defaultCampaignSettings()
  settings.screening.callingHours = { start: '00:00', end: '23:59', weekdays: [1, 2, 3, 4, 5, 6, 7] }
  settings.pacing.maxLinesPerAgent = 1
  await env.repos.campaigns.create({ name: 'recorded', settings, id: CAMPAIGN_ID })
  await env.repos.agents.create({ id: AGENT, name: 'Agent Rec' })
  await env.repos.leads.insertMany(CAMPAIGN_ID, [{ phone: '+4930123456', e164: '+4930123456', timezone: 'UTC' }])
  const now = clock.now()
  await sip.acd.register(AGENT, now)
  await sip.acd.apply(AGENT, { type: 'login', at: now, ready: true })
  await sip.runtime.agentReady(AGENT)
  await sip.runtime.start(CAMPAIGN_ID)

  const show = (): string => logLines.slice(-25).join('')
  await until(() => bridged.length === 1, `the customer to be bridged; log:\n${show()}`, 30_000)
  const callId = bridged[0]!.callId
  const registrations = new RecordingRegistrationRepository(env.db)
  const deadline = Date.now() + 60_000
  while ((await registrations.get(callId))?.state !== 'done') {
    if (Date.now() > deadline) throw new Error(`the recording was not processed: ${JSON.stringify(await registrations.get(callId))}; log:\n${show()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const reg = (await registrations.get(callId))!
  t.match(reg, { campaignId: CAMPAIGN_ID, agentId: AGENT, segments: 1, siteId: 'default' })
  t.match(reg.legs, [{ party: 'customer' }, { party: 'agent', id: AGENT }])
  const recordings = new RecordingRepository(env.db, pii)
  const rec = (await recordings.getByCall(callId))!
  t.equal(rec.id, reg.recordingId)
  t.match(rec, { campaignId: CAMPAIGN_ID, agentId: AGENT, channels: 2, format: 'opus', number: '+4930123456' }, 'stored with who and what the call was')
  t.ok(rec.path.startsWith(join(spool, 'opus')), 'in the output directory beside the spool')
  const byNumber = await recordings.search({ number: '+4930123456' }, { siteId: 'default', agentId: null }, { limit: 10, offset: 0 })
  t.strictSame(byNumber.items.map((r) => r.callId), [callId], 'QA finds it by the lead\'s number')
  const hits = await new KeywordHitRepository(env.db).list(rec.id)
  t.ok(hits.some((h) => h.keyword === 'hello' && h.party === 'customer'), `the campaign's keyword spotted in the customer's voice (${JSON.stringify(hits)})`)
  t.ok(logLines.some((l) => l.includes('recording processed') && l.includes(callId)), 'the log says so, with the call id')

  t.match(await registry.metrics(), /cadence_worker_queue_capacity_tasks\{pool="media"\} 64/, 'the media worker pool\'s backlog is exported')

  await sip.sessions.logout(AGENT)
  await until(() => sip.anchor.anchored() === 0, 'every anchored call released')
  t.strictSame((await sip.pool.command({ host: rtpe.host, port: rtpe.ngPort }, 'list', { limit: 10 })).calls ?? [], [], 'rtpengine holds nothing')
})
