/**
 * The engine at a real site end to end (issue 5), as `npm start` builds it with DRACHTIO_ADDRESS set
 * (engine/campaign/sip-engine.ts): the runtime paces a progressive campaign over the real Redis and PostgreSQL,
 * checks the trunk's gateway with OPTIONS, dials the lead through drachtio (the double) to a sipp carrier, rtpengine (a private real daemon) anchors the media,
 * and the answered customer is bridged to the ready agent's nailed-up session (a second sipp as the phone). The call
 * is then ended by the maximum call length (the carrier never hangs up) and leaves a CDR and nothing in rtpengine.
 */
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../engine/clock.js'
import { createEngineMetrics, createProcessRegistry } from '../../engine/campaign/metrics.js'
import { createSipEngine } from '../../engine/campaign/sip-engine.js'
import type { CampaignSettings } from '../../engine/store/sql/campaigns.js'
import { AgentSessionEvents } from '../../engine/telephony/drachtio/agent-sessions.js'
import type { BridgedEvent, EndedEvent } from '../../engine/telephony/port.js'
import { RegistrationStore } from '../../engine/telephony/registrar/registration-store.js'
import { RedisCallJournal } from '../../engine/store/redis/call-journal.js'
import { TrunkCaps } from '../../engine/store/redis/trunk-caps.js'
import { startSipp } from '../doubles/drachtio/replay/sipp.js'
import { APP_SDP, startTarget, until } from '../doubles/drachtio/replay/target.js'
import { engineTestEnv } from '../campaign/fixtures/engine-env.js'
import { startRtpengineDaemon } from './rtpengine/rtpengine-daemon.js'
import { carrierScenario, gateway } from './drachtio/telephony-harness.js'

const CAMPAIGN_ID = 'camp-sip-engine'
const AGENT = 'sip-agent-1'

function settings(): CampaignSettings {
  return {
    dialMode: 'progressive',
    pacing: {
      abandonCeiling: 0.03,
      abandonWindows: ['day', 'rolling-30d'],
      abandonDenominator: 'live-answers',
      maxLinesPerAgent: 1,
      safeHarborSeconds: 2,
      amd: false,
    },
    screening: {
      callingHours: { start: '00:00', end: '23:59', weekdays: [1, 2, 3, 4, 5, 6, 7] },
      minRecallGapMinutes: 30,
      abandonLockoutHours: 72,
    },
    caps: { maxAttemptsTotal: 3, maxAttemptsPer24h: 2, maxAttemptsPer7d: 3, maxLines: 10, callsPerSecond: 5 },
  }
}

t.test('a lead dialed through drachtio, answered by the carrier, bridged to the agent, ended at the maximum call length', async (t) => {
  const env = await engineTestEnv('sip-engine')
  t.teardown(() => env.dispose())
  const target = await startTarget()
  t.teardown(() => target.close())
  const rtpe = await startRtpengineDaemon()
  t.teardown(() => rtpe.stop())
  // the gateway answers the engine's OPTIONS health check (sent once drachtio is up), then the call
  const carrier = await gateway('carrier-options-and-answer.xml', { options_status: '200', options_reason: 'OK' }, 60, 2)
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 60, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const logLines: string[] = []
  const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'info' }, { write: (l: string) => void logLines.push(l) })
  const maxCallMs = 3000
  const sip = createSipEngine({
    clock,
    redis: env.redis,
    keys: env.keys,
    repos: env.repos,
    metrics: createEngineMetrics(createProcessRegistry()),
    logger,
    instanceId: 'sip-engine-test',
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
  const bridged: BridgedEvent[] = []
  const ended: EndedEvent[] = []
  sip.telephony.on('bridged', (e) => void bridged.push(e))
  sip.telephony.on('ended', (e) => void ended.push(e))
  await sip.connect()

  // the agent's phone registered (as the registrar stores it) and the agent logged in: the session comes up
  await new RegistrationStore(env.redis, env.keys.prefix, clock).apply(AGENT, { callId: 'reg-1', cseq: 1 }, [{ uri: `sip:agent@127.0.0.1:${phone.port}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  const up = new Promise((resolve) => sip.sessions.once(AgentSessionEvents.Up, resolve))
  sip.sessions.login(AGENT)
  await up

  await env.repos.campaigns.create({ name: 'sip engine', settings: settings(), id: CAMPAIGN_ID })
  await env.repos.agents.create({ id: AGENT, name: 'Agent One' })
  await env.repos.leads.insertMany(CAMPAIGN_ID, [{ phone: '+4930123456', timezone: 'UTC' }])
  const now = clock.now()
  await sip.acd.register(AGENT, now)
  await sip.acd.apply(AGENT, { type: 'login', at: now, ready: true })
  await sip.runtime.agentReady(AGENT)
  await sip.runtime.start(CAMPAIGN_ID)

  const show = (): string => logLines.slice(-25).join('')
  await until(() => bridged.length === 1, `the customer to be bridged; log:\n${show()}`, 30_000)
  t.equal(bridged[0]!.agentId, AGENT, 'bridged to the ready agent')
  const callId = bridged[0]!.callId
  await until(() => ended.some((e) => e.callId === callId), `the call to end at the maximum call length; log:\n${show()}`, 30_000)
  t.equal(ended.find((e) => e.callId === callId)!.endedBy, 'system', 'ended by us')
  const carrierRun = await carrier.done
  t.equal(carrierRun.code, 0, 'the carrier answered our OPTIONS, the call, and got our BYE')
  t.ok(carrierRun.trace.some((e) => e.dir === 'received' && e.text.startsWith('OPTIONS')), 'the gateway health check ran')
  const invite = carrierRun.trace.find((e) => e.dir === 'received' && e.text.startsWith('INVITE'))?.text ?? ''
  t.match(invite, /^INVITE sip:\+4930123456@127\.0\.0\.1:\d+ SIP\/2\.0/, 'the lead\'s number was dialed on the trunk')
  t.match(invite, /\nm=audio \d+ RTP\/AVP/, 'with an SDP offer')
  t.ok(logLines.some((l) => l.includes('maximum call length reached')), 'the log says why the call ended')
  for (let i = 0; i < 3000 && (await env.repos.cdrs.get(callId)) === undefined; i++) await new Promise((r) => setTimeout(r, 10))
  const cdr = await env.repos.cdrs.get(callId)
  t.equal(cdr?.agentId, AGENT)
  t.equal(cdr?.endedBy, 'system')
  await until(() => sip.anchor.anchored() === 1, 'only the agent session to stay anchored')
  await sip.sessions.logout(AGENT)
  await until(() => sip.anchor.anchored() === 0, 'the session media to be released')
  t.strictSame((await sip.pool.command({ host: rtpe.host, port: rtpe.ngPort }, 'list', { limit: 10 })).calls ?? [], [], 'rtpengine holds nothing')
  t.equal((await phone.done).code, 0, 'the phone got its BYE on logout')
})

t.test("a crashed engine's call: the next SIP engine writes its CDR and gives back its trunk channel and rtpengine session", async (t) => {
  const env = await engineTestEnv('sip-engine-lost')
  t.teardown(() => env.dispose())
  const target = await startTarget()
  t.teardown(() => target.close())
  const rtpe = await startRtpengineDaemon()
  t.teardown(() => rtpe.stop())
  const clock = new RealClock()
  const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
  const engine = { host: rtpe.host, port: rtpe.ngPort }
  const trunks = { trunks: [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:5999' }], maxChannels: 2 }, { id: 'carrier-b', gateways: [{ address: '127.0.0.1:5998' }], maxChannels: 2 }], defaultTrunk: 'carrier-a' }
  const sip = createSipEngine({
    clock,
    redis: env.redis,
    keys: env.keys,
    repos: env.repos,
    metrics: createEngineMetrics(createProcessRegistry()),
    logger,
    instanceId: 'engine-after-crash',
    telephony: {
      drachtio: { host: '127.0.0.1', port: target.recorder.port, secret: target.secret },
      rtpengine: { engines: [engine], timeoutMs: 2000, recvBufferBytes: undefined },
      trunksFile: 'in-test',
      ringTimeoutMs: 25_000,
      maxCallMs: 0,
    },
    trunks,
  })
  t.teardown(() => sip.stop())
  await sip.connect()
  await env.repos.campaigns.create({ name: 'after a crash', settings: settings(), id: CAMPAIGN_ID })

  // what the dead engine left: its journal entry, a channel of carrier-b, a live rtpengine session, and no heartbeat
  const callId = 'call-of-a-dead-engine'
  await new RedisCallJournal(env.redis, env.keys.prefix).record({
    callId, campaignId: CAMPAIGN_ID, leadId: 'lead-lost', instanceId: 'engine-that-crashed', dialedAt: clock.now() - 60_000, state: 'answered', answeredAt: clock.now() - 50_000,
  })
  const caps = new TrunkCaps(env.redis, env.keys.prefix, clock)
  t.match(await caps.acquire('carrier-b', callId, { maxChannels: 2 }), { granted: true })
  await sip.pool.command(engine, 'offer', { 'call-id': callId, 'from-tag': 'dead-engine', sdp: APP_SDP, ICE: 'remove' })
  t.strictSame((await sip.pool.command(engine, 'list', { limit: 10 })).calls, [callId], 'rtpengine still holds the dead engine\'s session')

  t.equal(await sip.runtime.reconcile(CAMPAIGN_ID), 1, 'the lost call is closed')
  const cdrs = await env.repos.cdrs.listByCampaign(CAMPAIGN_ID, { from: 0, to: clock.now() + 60_000, limit: 10 })
  t.match(cdrs, [{ callId, disposition: 'system:engine-lost', abandoned: true }], 'one CDR: answered, never with an agent')
  t.equal(await caps.inUse('carrier-b'), 0, 'its trunk channel is back at once, not after the lease')
  t.strictSame((await sip.pool.command(engine, 'list', { limit: 10 })).calls ?? [], [], 'its rtpengine session is deleted')
  t.equal(await sip.runtime.reconcile(CAMPAIGN_ID), 0, 'and it is not closed twice')
})
