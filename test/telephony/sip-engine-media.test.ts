/**
 * The SIP engine as `npm start` builds it (engine/campaign/sip-engine.ts) hearing its calls (issues 3 and 5 §3): a
 * progressive campaign with AMD on, over the real Redis and PostgreSQL, dials its lead through drachtio (the double)
 * to a sipp carrier that plays recordings of the media corpus (held-out split) with `play_pcap_audio`, from pcaps the
 * test writes (rtp-pcap.ts); rtpengine (a private real daemon) relays them to the engine's media analysis socket.
 * - a SIT in the 183: the dialer's CDR says invalid-number with the SIT, screening's Redis memory has the number,
 *   the agent never hears of the call;
 * - ringback in the 183, answered by a voicemail greeting: CDR machine (AMD's reason kept), hung up, no agent;
 * - ringback, then "喂?": AMD human, bridged to the ready agent's nailed-up session (the dialer's routing);
 * - an answer, then a SIT: hung up before AMD calls it a person; CDR invalid-number, not an abandon, number learned.
 * Each ends with rtpengine's own list empty once the agent logs out.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../engine/clock.js'
import { createEngineMetrics, createProcessRegistry } from '../../engine/campaign/metrics.js'
import { createSipEngine } from '../../engine/campaign/sip-engine.js'
import { RedisInvalidNumberStore } from '../../engine/store/redis/invalid-numbers.js'
import type { CampaignSettings } from '../../engine/store/sql/campaigns.js'
import { AgentSessionEvents } from '../../engine/telephony/drachtio/agent-sessions.js'
import type { CallEventMap, CallEventName } from '../../engine/telephony/port.js'
import { CallEvents } from '../../engine/telephony/port.js'
import { RegistrationStore } from '../../engine/telephony/registrar/registration-store.js'
import { CORPUS_DIR, loadCorpus } from '../fixtures/corpus.js'
import { startSipp } from '../doubles/drachtio/replay/sipp.js'
import { startTarget, until } from '../doubles/drachtio/replay/target.js'
import { engineTestEnv } from '../campaign/fixtures/engine-env.js'
import { startRtpengineDaemon } from './rtpengine/rtpengine-daemon.js'
import { writeRtpPcap } from './drachtio/rtp-pcap.js'
import { carrierScenario, gateway } from './drachtio/telephony-harness.js'

const AGENT = 'sip-agent-1'

/** Polls an asynchronous condition (a store read) until it holds; gives up with a message. */
async function eventually(cond: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const start = Date.now()
  while (!(await cond())) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
const NUMBER = '+4930123456'

const corpus = loadCorpus()
function ulaw(label: string, detail = ''): Uint8Array {
  const item = corpus.find((c) => c.split === 'heldout' && c.label === label && c.detail.includes(detail))
  if (!item) throw new Error(`no held-out corpus item ${label} ${detail}`)
  return new Uint8Array(readFileSync(join(CORPUS_DIR, item.file)))
}
const pcapDir = mkdtempSync(join(tmpdir(), 'cadence-pcap-'))
t.teardown(() => rmSync(pcapDir, { recursive: true, force: true }))
function pcap(name: string, audio: Uint8Array): string {
  const file = join(pcapDir, `${name}.pcap`)
  writeRtpPcap(file, audio)
  return file
}
const sit = ulaw('sit-VC')
const PCAP = {
  // a carrier's intercept repeats its SIT
  sit: pcap('sit', Uint8Array.from([...sit, ...sit, ...sit])),
  // China's ringback: 1 s of 450 Hz, then its 4 s pause (cut short by the answer)
  ringback: pcap('ringback', ulaw('ringback', 'tone:1:450').subarray(0, 8000 * 2.5)),
  machine: pcap('machine', ulaw('machine')),
  human: pcap('human', ulaw('human', 'wei2?')),
}

const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())

function settings(): CampaignSettings {
  return {
    dialMode: 'progressive',
    pacing: {
      abandonCeiling: 0.03,
      abandonWindows: ['day', 'rolling-30d'],
      abandonDenominator: 'live-answers',
      maxLinesPerAgent: 1,
      safeHarborSeconds: 2,
      amd: true,
    },
    screening: {
      callingHours: { start: '00:00', end: '23:59', weekdays: [1, 2, 3, 4, 5, 6, 7] },
      minRecallGapMinutes: 30,
      abandonLockoutHours: 72,
    },
    caps: { maxAttemptsTotal: 3, maxAttemptsPer24h: 2, maxAttemptsPer7d: 3, maxLines: 10, callsPerSecond: 5 },
  }
}

interface Seen {
  name: CallEventName
  event: CallEventMap[CallEventName]
}

/** The engine dialing one lead of an AMD campaign to a carrier playing `scenario`, with one ready agent. */
async function site(t: { teardown(fn: () => unknown): void }, name: string, scenario: string, fill: Record<string, string>, maxCallMs = 4000) {
  const env = await engineTestEnv(name)
  t.teardown(() => env.dispose())
  const target = await startTarget()
  t.teardown(() => target.close())
  const carrier = await gateway(scenario, fill, 60, 2)
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const logLines: string[] = []
  const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'info' }, { write: (l: string) => void logLines.push(l) })
  const sip = createSipEngine({
    clock,
    redis: env.redis,
    keys: env.keys,
    repos: env.repos,
    metrics: createEngineMetrics(createProcessRegistry()),
    logger,
    instanceId: `${name}-test`,
    telephony: {
      drachtio: { host: '127.0.0.1', port: target.recorder.port, secret: target.secret },
      rtpengine: { engines: [{ host: rtpe.host, port: rtpe.ngPort }], timeoutMs: 2000, recvBufferBytes: undefined },
      trunksFile: 'in-test',
      ringTimeoutMs: 25_000,
      maxCallMs,
    },
    trunks: { trunks: [{ id: 'carrier-a', gateways: [{ address: `127.0.0.1:${carrier.port}` }], maxChannels: 2 }], defaultTrunk: 'carrier-a' },
  })
  t.teardown(() => sip.stop())
  const seen: Seen[] = []
  for (const n of Object.values(CallEvents)) sip.telephony.on(n, (event) => void seen.push({ name: n, event }))
  await sip.connect()
  await new RegistrationStore(env.redis, env.keys.prefix, clock).apply(AGENT, { callId: 'reg-1', cseq: 1 }, [{ uri: `sip:agent@127.0.0.1:${phone.port}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  const up = new Promise((resolve) => sip.sessions.once(AgentSessionEvents.Up, resolve))
  sip.sessions.login(AGENT)
  await up
  const campaignId = `camp-${name}`
  await env.repos.campaigns.create({ name, settings: settings(), id: campaignId })
  await env.repos.agents.create({ id: AGENT, name: 'Agent One' })
  await env.repos.leads.insertMany(campaignId, [{ phone: NUMBER, timezone: 'UTC' }])
  const now = clock.now()
  await sip.acd.register(AGENT, now)
  await sip.acd.apply(AGENT, { type: 'login', at: now, ready: true })
  await sip.runtime.agentReady(AGENT)
  await sip.runtime.start(campaignId)
  const show = (): string => logLines.slice(-25).join('')
  return {
    env,
    sip,
    carrier,
    phone,
    seen,
    show,
    lines: () => logLines,
    names: (callId: string) => seen.filter((s) => s.event.callId === callId).map((s) => s.name),
    async firstCall(): Promise<string> {
      await until(() => seen.length > 0, `a call to be placed; log:\n${show()}`, 30_000)
      return seen[0]!.event.callId
    },
    async cdr(callId: string) {
      await eventually(async () => (await env.repos.cdrs.get(callId)) !== undefined, `the call's CDR; log:\n${show()}`)
      return (await env.repos.cdrs.get(callId))!
    },
    async empty(): Promise<string[]> {
      await sip.sessions.logout(AGENT)
      await until(() => sip.anchor.anchored() === 0, 'every call\'s media released')
      return (await sip.pool.command({ host: rtpe.host, port: rtpe.ngPort }, 'list', { limit: 10 })).calls ?? []
    },
  }
}

t.test('a SIT in the early media: invalid-number on the CDR with the SIT, the number learned, no agent involved', async (t) => {
  const s = await site(t, 'sit', 'carrier-options-early-media-cancelled.xml', { early_pcap: PCAP.sit })
  const callId = await s.firstCall()
  const cdr = await s.cdr(callId)
  t.equal(cdr.outcome, 'invalid-number', cdr.outcome === 'invalid-number' ? 'outcome' : `outcome; log:\n${s.show()}`)
  t.equal(cdr.earlyMediaReason, 'sit-vacant-code', 'the CDR says what was heard')
  t.match(cdr.earlyMediaDetail, /^SIT VC/)
  t.equal(cdr.sipStatus, 487, 'beside the 487 after our CANCEL')
  t.equal(cdr.agentId, undefined)
  t.strictSame(s.names(callId), ['ringing', 'early-media', 'failed'], 'never answered, never bridged')
  const store = new RedisInvalidNumberStore(s.env.redis, s.env.keys.prefix, (n) => s.env.repos.dnc.numberHash(n))
  await eventually(async () => (await store.get(NUMBER)) !== undefined, 'screening to learn the number')
  t.match(await store.get(NUMBER), { e164: NUMBER, reason: 'unallocated', source: 'sit' }, 'learned as a SIP 404 would be, from its SIT')
  const run = await s.carrier.done
  t.equal(run.code, 0, 'the carrier saw OPTIONS, the INVITE, our CANCEL and its ACK')
  t.ok(run.trace.some((e) => e.dir === 'received' && e.text.startsWith('CANCEL')))
  t.strictSame(await s.empty(), [], 'rtpengine holds nothing')
})

t.test('ringback, then a voicemail greeting: CDR machine with AMD\'s reason, hung up, no agent', async (t) => {
  const s = await site(t, 'machine', 'carrier-options-early-media-answer.xml', { early_pcap: PCAP.ringback, answer_pcap: PCAP.machine, answer_ms: '3000' })
  const callId = await s.firstCall()
  const cdr = await s.cdr(callId)
  t.equal(cdr.outcome, 'machine', cdr.outcome === 'machine' ? 'outcome' : `outcome; log:\n${s.show()}`)
  t.equal(cdr.amdOutcome, 'machine')
  t.match(cdr.amdReason, /long greeting/)
  t.equal(cdr.earlyMediaReason, undefined, 'the ringback was no SIT')
  t.notOk(s.names(callId).includes('bridged'), 'the agent never got it')
  t.equal((await s.carrier.done).code, 0, 'the carrier got our BYE')
  t.strictSame(await s.empty(), [], 'rtpengine holds nothing')
})

t.test('ringback, then "喂?": AMD human, bridged to the ready agent', async (t) => {
  const s = await site(t, 'human', 'carrier-options-early-media-answer.xml', { early_pcap: PCAP.ringback, answer_pcap: PCAP.human, answer_ms: '3000' })
  const callId = await s.firstCall()
  await until(() => s.names(callId).includes('bridged'), `the person to reach the agent; log:\n${s.show()}`, 30_000)
  const amd = s.seen.find((e) => e.name === 'amd-result' && e.event.callId === callId)!.event as CallEventMap['amd-result']
  t.equal(amd.outcome, 'human', `AMD: ${amd.reason ?? ''}`)
  t.strictSame(s.names(callId).slice(0, 5), ['ringing', 'early-media', 'answered', 'amd-result', 'bridged'])
  // the maximum call length (4 s here) ends it
  const cdr = await s.cdr(callId)
  t.equal(cdr.outcome, 'connected')
  t.equal(cdr.agentId, AGENT)
  t.equal(cdr.amdOutcome, 'human')
  t.match(cdr.amdReason, /short greeting/)
  t.equal((await s.carrier.done).code, 0, 'the carrier got our BYE')
  t.strictSame(await s.empty(), [], 'rtpengine holds nothing')
  t.equal((await s.phone.done).code, 0)
})

t.test('a carrier that answers, then plays a SIT: CDR invalid-number, not an abandon, the number learned, no agent', async (t) => {
  const s = await site(t, 'answered-sit', 'carrier-options-early-media-answer.xml', { early_pcap: PCAP.ringback, answer_pcap: PCAP.sit, answer_ms: '3000' })
  const callId = await s.firstCall()
  const cdr = await s.cdr(callId)
  t.equal(cdr.outcome, 'invalid-number', cdr.outcome === 'invalid-number' ? 'outcome' : `outcome; log:\n${s.show()}`)
  t.equal(cdr.abandoned, false, 'no person was there: not counted against the abandon ceiling')
  t.equal(cdr.earlyMediaReason, 'sit-vacant-code')
  t.equal(cdr.amdOutcome, undefined, 'AMD never decided')
  t.equal(cdr.agentId, undefined)
  t.strictSame(s.names(callId), ['ringing', 'early-media', 'answered', 'ended'])
  const store = new RedisInvalidNumberStore(s.env.redis, s.env.keys.prefix, (n) => s.env.repos.dnc.numberHash(n))
  await eventually(async () => (await store.get(NUMBER)) !== undefined, 'screening to learn the number')
  t.match(await store.get(NUMBER), { reason: 'unallocated', source: 'sit' })
  t.equal((await s.carrier.done).code, 0, 'the carrier got our BYE')
  t.strictSame(await s.empty(), [], 'rtpengine holds nothing')
})

t.test('a person answers and no agent is free within the wait: the safe-harbor prompt plays, then hangup; CDR abandoned', async (t) => {
  const s = await site(t, 'safe-harbor', 'carrier-options-early-media-answer.xml', { early_pcap: PCAP.ringback, answer_pcap: PCAP.human, answer_ms: '3000' }, 60_000)
  const callId = await s.firstCall()
  // the only agent goes on a break while the call rings: nobody will be free when the person answers
  await s.sip.acd.apply(AGENT, { type: 'pause', at: Date.now(), reason: 'break' })
  const cdr = await s.cdr(callId)
  t.equal(cdr.abandoned, true, cdr.abandoned ? 'abandoned: a person waited and no agent came' : `abandoned; log:\n${s.show()}`)
  t.equal(cdr.agentId, undefined, 'no agent had it')
  t.notOk(s.names(callId).includes('bridged'))
  const lines = s.lines().map((l) => JSON.parse(l) as { msg?: string; prompt?: string; cause?: string; callId?: string })
  const mine = lines.filter((l) => l.callId === callId)
  const played = mine.findIndex((l) => l.msg === 'prompt playing' && l.prompt === 'safe-harbor')
  const hungUp = mine.findIndex((l) => l.msg === 'hangup requested' && l.cause === 'safe-harbor-played')
  t.ok(played >= 0, 'rtpengine started the safe-harbor prompt on the call')
  t.ok(hungUp > played, 'the engine hung up once the prompt had played (not before)')
  t.equal((await s.carrier.done).code, 0, 'the carrier got our BYE')
  t.strictSame(await s.empty(), [], 'rtpengine holds nothing')
})
