/**
 * Supervision as `npm start` builds it at a real site (engine/campaign/sip-engine.ts) with FreeSWITCH configured
 * (CADENCE_FREESWITCH_ESL, here the double): a progressive campaign's lead is dialed through the drachtio double to a
 * talking sipp carrier and bridged to the agent's nailed-up session; the runtime's `supervision` (what the API calls)
 * then lets a supervisor listen (rtpengine subscription, counted at the supervisor's ports) and whisper (drachtio-fsmrf
 * loaded and connected by the engine itself; the agent hears the supervisor, the customer does not).
 */
import dgram from 'node:dgram'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../engine/clock.js'
import { createEngineMetrics, createProcessRegistry } from '../../engine/campaign/metrics.js'
import { createSipEngine } from '../../engine/campaign/sip-engine.js'
import type { CampaignSettings } from '../../engine/store/sql/campaigns.js'
import { AgentSessionEvents } from '../../engine/telephony/drachtio/agent-sessions.js'
import type { BridgedEvent } from '../../engine/telephony/port.js'
import { RegistrationStore } from '../../engine/telephony/registrar/registration-store.js'
import { FreeSwitchDouble } from '../doubles/freeswitch/freeswitch.js'
import { startSipp } from '../doubles/drachtio/replay/sipp.js'
import { startTarget, until } from '../doubles/drachtio/replay/target.js'
import { engineTestEnv } from '../campaign/fixtures/engine-env.js'
import { startRtpengineDaemon } from './rtpengine/rtpengine-daemon.js'
import { carrierScenario, gateway } from './drachtio/telephony-harness.js'

const CAMPAIGN_ID = 'camp-sip-supervisor'
const AGENT = 'sip-agent-sup'

function settings(): CampaignSettings {
  return {
    dialMode: 'progressive',
    pacing: { abandonCeiling: 0.03, abandonWindows: ['day', 'rolling-30d'], abandonDenominator: 'live-answers', maxLinesPerAgent: 1, safeHarborSeconds: 2, amd: false },
    screening: { callingHours: { start: '00:00', end: '23:59', weekdays: [1, 2, 3, 4, 5, 6, 7] }, minRecallGapMinutes: 30, abandonLockoutHours: 72 },
    caps: { maxAttemptsTotal: 3, maxAttemptsPer24h: 2, maxAttemptsPer7d: 3, maxLines: 10, callsPerSecond: 5 },
  }
}

async function ear(): Promise<{ socket: dgram.Socket; packets: () => number }> {
  const socket = dgram.createSocket('udp4')
  let n = 0
  socket.on('message', () => n++)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return { socket, packets: () => n }
}

t.test('listen and whisper on a campaign call through the engine npm start builds', async (t) => {
  const env = await engineTestEnv('sip-supervisor')
  t.teardown(() => env.dispose())
  const target = await startTarget()
  t.teardown(() => target.close())
  const rtpe = await startRtpengineDaemon()
  t.teardown(() => rtpe.stop())
  const fs = await FreeSwitchDouble.start({ password: 'esl-test' })
  t.teardown(() => fs.close())
  const carrier = await gateway('carrier-options-answer-talk.xml', { options_status: '200', options_reason: 'OK' }, 60, 2)
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
    instanceId: 'sip-supervisor-test',
    telephony: {
      drachtio: { host: '127.0.0.1', port: target.recorder.port, secret: target.secret },
      rtpengine: { engines: [{ host: rtpe.host, port: rtpe.ngPort }], timeoutMs: 2000, recvBufferBytes: undefined },
      trunksFile: 'in-test',
      ringTimeoutMs: 25_000,
      maxCallMs: 0,
      freeswitch: { host: '127.0.0.1', port: fs.eslPort, secret: 'esl-test', listen: { host: '127.0.0.1', port: 0 } },
    },
    trunks: { trunks: [{ id: 'carrier-a', gateways: [{ address: `127.0.0.1:${carrier.port}` }], maxChannels: 2 }], defaultTrunk: 'carrier-a' },
  })
  t.teardown(() => sip.stop())
  const bridged: BridgedEvent[] = []
  sip.telephony.on('bridged', (e) => void bridged.push(e))
  await sip.connect()
  t.ok(fs.apiLog.includes('sofia status'), 'the engine connected drachtio-fsmrf to FreeSWITCH at start-up')

  await new RegistrationStore(env.redis, env.keys.prefix, clock).apply(AGENT, { callId: 'reg-1', cseq: 1 }, [{ uri: `sip:agent@127.0.0.1:${phone.port}`, expires: 600 }])
  const up = new Promise((resolve) => sip.sessions.once(AgentSessionEvents.Up, resolve))
  sip.sessions.login(AGENT)
  await up
  await env.repos.campaigns.create({ name: 'sip supervisor', settings: settings(), id: CAMPAIGN_ID })
  await env.repos.agents.create({ id: AGENT, name: 'Agent Sup' })
  await env.repos.leads.insertMany(CAMPAIGN_ID, [{ phone: '+4930123456', timezone: 'UTC' }])
  const now = clock.now()
  await sip.acd.register(AGENT, now)
  await sip.acd.apply(AGENT, { type: 'login', at: now, ready: true })
  await sip.runtime.agentReady(AGENT)
  await sip.runtime.start(CAMPAIGN_ID)
  await until(() => bridged.length === 1, `the customer to be bridged; log:\n${logLines.slice(-25).join('')}`, 30_000)
  const callId = bridged[0]!.callId

  const supervision = sip.runtime.supervision
  t.ok(supervision, 'the runtime (the API\'s CampaignControl) offers supervision')
  t.equal(supervision!.campaignOf(callId), CAMPAIGN_ID, 'the call\'s campaign, for the API\'s site scoping')

  // listen: both parties at the supervisor's two ports
  const ears = [await ear(), await ear()]
  t.teardown(() => ears.forEach((e) => e.socket.close()))
  const listener = await gateway('supervisor-listen-wait-bye.xml', { first_port: String(ears[0]!.socket.address().port), second_port: String(ears[1]!.socket.address().port) })
  const listening = await supervision!.start(callId, 'listen', { kind: 'uri', uri: `sip:listener@127.0.0.1:${listener.port}` })
  await until(() => ears.every((e) => e.packets() > 20), 'both parties at the listening supervisor', 20_000)
  await supervision!.stop(listening.supervisionId)
  t.equal((await listener.done).code, 0, 'the listener got our BYE')

  // whisper through FreeSWITCH
  const whisperer = await gateway('carrier-answer-talk-wait-bye.xml')
  const whispering = await supervision!.start(callId, 'whisper', { kind: 'uri', uri: `sip:whisperer@127.0.0.1:${whisperer.port}` })
  const [conf] = [...fs.conferences.values()]
  const [, customer, agent, sup] = [...conf!.members.entries()].sort((a, b) => a[0] - b[0]).map(([, uuid]) => uuid)
  await until(() => fs.heard(agent!, sup!) > 20 && fs.heard(sup!, customer!) > 20, 'the whisper to carry audio', 20_000)
  t.equal(fs.heard(customer!, sup!), 0, 'the customer does not hear the whisperer')
  await supervision!.stop(whispering.supervisionId)
  t.equal((await whisperer.done).code, 0, 'the whisperer got our BYE')
  await until(() => fs.channels.size === 0, 'no FreeSWITCH leg left')

  await sip.telephony.hangup(callId, 'test')
  await until(() => sip.anchor.anchored() === 1, 'only the agent session to stay anchored')
  await sip.sessions.logout(AGENT)
  await until(() => sip.anchor.anchored() === 0, 'the session media to be released')
  t.strictSame((await sip.pool.command({ host: rtpe.host, port: rtpe.ngPort }, 'list', { limit: 10 })).calls ?? [], [], 'rtpengine holds nothing')
  t.notOk(logLines.some((l) => l.includes('esl-test')), 'the event socket password never reached the log')
})
