/**
 * Whisper and barge through drachtio-fsmrf 4.1.2 (issue 5 §7) against the FreeSWITCH double
 * (test/doubles/freeswitch/), with the drachtio double, a real rtpengine and sipp: the carrier sipp talks, the agent's
 * phone sipp echoes, the supervisor's phone sipp talks too. The double forwards each member's RTP to the members
 * allowed to hear it and counts it per (speaker, listener): whisper lets only the agent hear the supervisor, barge
 * everyone; stopping puts the customer and the agent back on rtpengine's direct join and leaves no FreeSWITCH channel.
 */
import dgram from 'node:dgram'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessionEvents, AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { DrachtioSupervision } from '../../../engine/telephony/drachtio/supervisor-listen.js'
import { FsmrfConference } from '../../../engine/telephony/fsmrf/fsmrf-conference.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { NgPool } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { SupervisionEvents, SupervisionRefused, type SupervisionEnded } from '../../../engine/telephony/supervisor/supervision.js'
import { FreeSwitchDouble } from '../../doubles/freeswitch/freeswitch.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'
import { carrierScenario, gateway, harness, request } from '../drachtio/telephony-harness.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())
const sink = dgram.createSocket('udp4')
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve))
t.teardown(() => sink.close())
const SINK_SDP = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sink.address().port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')

async function received(callId: string, tag: string): Promise<number> {
  const q = (await pool.command(engine, 'query', { 'call-id': callId })) as unknown as {
    tags?: Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }>
  }
  return (q.tags?.[tag]?.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + (s.stats?.packets ?? 0), 0)
}

async function scene(t: Tap, name: string) {
  const env = redisEnv(name)
  t.teardown(() => env.cleanup())
  const fs = await FreeSwitchDouble.start({ password: 'test-secret' })
  t.teardown(() => fs.close())
  const anchor = new RtpengineAnchor(pool, () => SINK_SDP, logger)
  const carrier = await gateway('carrier-answer-talk-wait-bye.xml')
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({ trunks: ({ trunk }) => [trunk(carrier)], media: anchor, agents: { sessionId: (agentId) => sessions.sessionId(agentId) } })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  const conference = new FsmrfConference({
    connection: h.conn,
    media: anchor,
    sessionOf: (callId) => {
      const agentId = h.port.liveCall(callId)?.agentId
      return agentId ? sessions.sessionId(agentId) : undefined
    },
    freeswitch: { address: '127.0.0.1', port: fs.eslPort, secret: 'test-secret', listenAddress: '127.0.0.1' },
    logger,
  })
  await conference.connect()
  const supervision = new DrachtioSupervision({ connection: h.conn, calls: h.port, media: anchor, clock, logger, conference })
  const ended: SupervisionEnded[] = []
  supervision.on(SupervisionEvents.Ended, (e: SupervisionEnded) => void ended.push(e))
  t.teardown(async () => {
    await supervision.close()
    conference.close()
    await sessions.close()
    await h.close()
  })
  await store.apply('agent-1', { callId: `reg-${name}`, cseq: 1 }, [{ uri: `sip:agent1@127.0.0.1:${phone.port}`, expires: 600 }])
  const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
  sessions.login('agent-1')
  const { sessionId } = await up
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await h.port.bridge(req.callId, 'agent-1')
  return { fs, h, anchor, sessions, supervision, carrier, phone, sessionId, callId: req.callId, ended }
}

/** The conference's members in join order: the control leg, the customer, the agent, the supervisor. */
function members(fs: FreeSwitchDouble): string[] {
  const [conf] = [...fs.conferences.values()]
  return conf ? [...conf.members.entries()].sort((a, b) => a[0] - b[0]).map(([, uuid]) => uuid) : []
}

async function wrapUp(t: Tap, s: Awaited<ReturnType<typeof scene>>): Promise<void> {
  await s.h.port.hangup(s.callId, 'test')
  await s.h.waitFor('ended', s.callId)
  await s.sessions.logout('agent-1')
  await until(() => s.anchor.anchored() === 0, 'every call\'s media released')
  t.strictSame((await pool.command(engine, 'list', { limit: 100 })).calls ?? [], [], 'rtpengine lists no session')
  t.equal((await s.carrier.done).trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE')).length, 1, 'the carrier got no re-INVITE')
  t.equal((await s.phone.done).trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE')).length, 1, 'the agent phone got no re-INVITE')
  const double = s.h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the drachtio double to hold no dialog')
}

for (const mode of ['whisper', 'barge'] as const) {
  t.test(`${mode}: who hears the supervisor, then back to the direct join`, async (t) => {
    const s = await scene(t, `fs-${mode}`)
    const sup = await gateway('carrier-answer-talk-wait-bye.xml')
    const view = await s.supervision.start(s.callId, mode, { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${sup.port}` })
    t.equal(view.state, 'up')
    const [control, customer, agent, supervisor] = members(s.fs)
    t.ok(control && customer && agent && supervisor, 'four conference members: control, customer, agent, supervisor')
    const heard = (listener: string | undefined, speaker: string | undefined): number => s.fs.heard(listener!, speaker!)
    await until(
      () => heard(agent, supervisor) > 20 && heard(supervisor, customer) > 20 && heard(agent, customer) > 20 && heard(customer, agent) > 20,
      `the conference to carry everyone (${[...s.fs.forwarded.entries()].map(([k, v]) => `${k}=${v}`).join(', ')})`,
      20_000,
    )
    t.ok(heard(agent, supervisor) > 0, 'the agent hears the supervisor')
    t.ok(heard(supervisor, customer) > 0 && heard(supervisor, agent) > 0, 'the supervisor hears the customer and the agent')
    t.ok(heard(customer, agent) > 0 && heard(agent, customer) > 0, 'the customer and the agent hear each other through the conference')
    if (mode === 'whisper') t.equal(heard(customer, supervisor), 0, 'the customer does not hear the supervisor')
    else t.ok(heard(customer, supervisor) > 0, 'the customer hears the supervisor')
    t.equal(heard(customer, control) + heard(agent, control), 0, 'the muted control leg is heard by nobody')
    t.ok(s.fs.apiLog.some((c) => /^conference \S+ relate \d+ \d+ nohear$/.test(c)) === (mode === 'whisper'), 'nohear relation only for a whisper')

    await s.supervision.stop(view.supervisionId)
    t.equal((await sup.done).code, 0, 'the supervisor phone got our BYE')
    await until(() => s.fs.channels.size === 0 && s.fs.conferences.size === 0, 'no FreeSWITCH channel or conference left')
    t.equal(s.ended[0]?.reason, 'stopped')
    // the direct join again: the agent's echo comes into the customer's call from the session through rtpengine
    const engineSide = `cadence-${s.callId}`
    const before = await received(s.callId, engineSide)
    for (let i = 0; i < 500 && (await received(s.callId, engineSide)) < before + 25; i++) await new Promise((r) => setTimeout(r, 20))
    t.ok((await received(s.callId, engineSide)) >= before + 25, 'customer and agent joined back in rtpengine')
    await wrapUp(t, s)
  })
}

t.test('the supervisor hangs up a barge; a busy phone is refused and nothing is left in FreeSWITCH', async (t) => {
  const s = await scene(t, 'fs-refused')
  const busy = await gateway('carrier-reject.xml', { status: '486', reason: 'Busy Here' })
  const err = await s.supervision.start(s.callId, 'barge', { kind: 'uri', uri: `sip:sup@127.0.0.1:${busy.port}` }).catch((e: unknown) => e)
  t.ok(err instanceof SupervisionRefused && err.sipStatus === 486, `refused with the phone's status (${String(err)})`)
  await until(() => s.fs.channels.size === 0 && s.fs.conferences.size === 0, 'the legs made before the phone refused to be ended')
  await busy.done
  const sup = await gateway('phone-answer-then-hang-up.xml', { hold_ms: '1500' })
  await s.supervision.start(s.callId, 'barge', { kind: 'uri', uri: `sip:sup@127.0.0.1:${sup.port}` })
  t.equal((await sup.done).code, 0, 'the supervisor hung up')
  await until(() => s.ended.length === 2, 'the barge to end')
  t.equal(s.ended[1]!.reason, 'supervisor-hung-up')
  await until(() => s.fs.channels.size === 0 && s.fs.conferences.size === 0, 'no FreeSWITCH channel left')
  await wrapUp(t, s)
})

t.test('the call ends during a whisper: the supervisor gets a BYE, every leg goes, the agent session stays', async (t) => {
  const s = await scene(t, 'fs-call-ends')
  const sup = await gateway('carrier-answer-talk-wait-bye.xml')
  await s.supervision.start(s.callId, 'whisper', { kind: 'uri', uri: `sip:sup@127.0.0.1:${sup.port}` })
  await s.h.port.hangup(s.callId, 'test')
  t.equal((await sup.done).code, 0, 'the supervisor phone got our BYE')
  await until(() => s.ended.length === 1, 'the whisper to end')
  t.equal(s.ended[0]!.reason, 'call-ended')
  await until(() => s.fs.channels.size === 0 && s.fs.conferences.size === 0, 'no FreeSWITCH channel or conference left')
  await until(() => s.anchor.anchored() === 1, 'only the agent session anchored')
  t.equal(s.sessions.state('agent-1'), 'up', 'the agent session outlives the customer')
  // the session is back on its own endpoint: re-offered with the engine's SDP, not left on a conference leg
  const q = (await pool.command(engine, 'query', { 'call-id': s.sessionId })) as unknown as {
    tags: Record<string, { medias?: { streams?: { 'advertised endpoint'?: { port?: number } }[] }[] }>
  }
  const engineSideTo = q.tags[`cadence-${s.sessionId}`]?.medias?.[0]?.streams?.[0]?.['advertised endpoint']?.port
  t.equal(engineSideTo, sink.address().port, 'the session\'s engine side is offered the engine\'s own endpoint again (rtpengine\'s advertised endpoint)')
  await wrapUp(t, s)
})
