/**
 * A customer answered through DrachtioTelephony joined to an agent's nailed-up session by media alone (issue 5), on a
 * real rtpengine (userspace) with the drachtio double and sipp: the carrier sipp talks (plays a G.711 recording) once
 * answered, the agent's phone is a sipp echoing whatever RTP reaches it. rtpengine's own counters show the customer's
 * audio reaching the phone and the phone's audio coming back into the customer's call only after bridge(); neither
 * phone received a re-INVITE; ending the customer leaves the session up and rtpengine with only the session.
 */
import dgram from 'node:dgram'
import { EventEmitter } from 'node:events'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessionEvents, AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { TelephonyRefused } from '../../../engine/telephony/drachtio/telephony-refused.js'
import type { EndedEvent } from '../../../engine/telephony/port.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { NgPool, type NgReply } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'
import { carrierScenario, gateway, harness, request } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())

// the engine's own RTP endpoint (where a call's media goes while it is with nobody): a socket that only counts
const sink = dgram.createSocket('udp4')
let sinkPackets = 0
sink.on('message', () => sinkPackets++)
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve))
t.teardown(() => sink.close())
const SINK_SDP = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sink.address().port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')

/** Packets rtpengine received per party (tag) of a call, summed over its streams. */
function receivedByTag(q: NgReply): Record<string, number> {
  const out: Record<string, number> = {}
  const tags = (q as unknown as { tags?: Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }> }).tags ?? {}
  for (const [tag, party] of Object.entries(tags)) {
    out[tag] = (party.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + (s.stats?.packets ?? 0), 0)
  }
  return out
}

async function received(callId: string, tag: string): Promise<number> {
  return receivedByTag(await pool.command(engine, 'query', { 'call-id': callId }))[tag] ?? 0
}

async function calls(): Promise<string[]> {
  return (await pool.command(engine, 'list', { limit: 100 })).calls ?? []
}

t.test('bridge joins the customer to the agent session through rtpengine, without SIP to either phone', async (t) => {
  const env = redisEnv('bridge')
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(pool, () => SINK_SDP, logger)
  const carrier = await gateway('carrier-answer-talk-wait-bye.xml')
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(carrier)],
    media: anchor,
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

  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  await t.rejects(h.port.bridge(req.callId, 'agent-nobody'), TelephonyRefused, 'an agent without a session is refused')
  const phoneTag = (await pool.command(engine, 'query', { 'call-id': sessionId })) as unknown as { tags: Record<string, unknown> }
  const phoneSide = Object.keys(phoneTag.tags).find((tag) => tag !== `cadence-${sessionId}`)!
  const engineSide = `cadence-${req.callId}`
  // the carrier talks from its ACK on; until the bridge its audio goes to the sink and nothing reaches the phone
  await until(() => sinkPackets > 20, 'the carrier audio to reach the engine endpoint')
  t.equal(await received(sessionId, phoneSide), 0, 'before the bridge the phone echoes nothing: it hears nothing')
  t.equal(await received(req.callId, engineSide), 0, 'and nothing comes into the customer\'s call from the engine side')

  await h.port.bridge(req.callId, 'agent-7')
  t.equal(h.names(req.callId).at(-1), 'bridged', 'the port announced the bridge')
  const sinkAtBridge = sinkPackets
  let echoed = 0
  for (let i = 0; i < 500 && echoed < 50; i++) {
    echoed = await received(sessionId, phoneSide)
    await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(echoed >= 50, `the phone echoed the customer's audio back into its session (${echoed} packets)`)
  const back = await received(req.callId, engineSide)
  t.ok(back > 0, `the agent's audio came into the customer's call from the session (${back} packets)`)
  // once bridged, more of the customer's audio goes through rtpengine and none of it reaches the engine endpoint
  const customerQ = (await pool.command(engine, 'query', { 'call-id': req.callId })) as unknown as { tags: Record<string, unknown> }
  const carrierSide = Object.keys(customerQ.tags).find((tag) => tag !== engineSide)!
  const sinkThen = sinkPackets
  const fromCarrier = await received(req.callId, carrierSide)
  for (let i = 0; i < 500 && (await received(req.callId, carrierSide)) < fromCarrier + 25; i++) await new Promise((r) => setTimeout(r, 20))
  t.ok((await received(req.callId, carrierSide)) >= fromCarrier + 25, 'the customer kept talking')
  t.equal(sinkPackets, sinkThen, 'none of it reached the engine endpoint')
  t.ok(sinkAtBridge > 0)

  await h.port.hangup(req.callId, 'test')
  t.equal(((await h.waitFor('ended', req.callId)) as EndedEvent).endedBy, 'system')
  await until(() => anchor.anchored() === 1, 'the customer\'s media to be released')
  const left = await calls()
  t.strictSame(left, [sessionId], 'rtpengine holds only the agent session')
  t.equal(sessions.state('agent-7'), 'up', 'the agent session outlives the customer')
  await sessions.logout('agent-7')
  await until(() => anchor.anchored() === 0, 'the session media to be released')
  t.strictSame(await calls(), [], 'rtpengine lists no session')
  const phoneRun = await phone.done
  t.equal(phoneRun.code, 0)
  t.equal(phoneRun.trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE')).length, 1, 'the phone got one INVITE, no re-INVITE')
  const carrierRun = await carrier.done
  t.equal(carrierRun.trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE')).length, 1, 'the carrier got no re-INVITE')
  const double = h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
})

t.test('the agent hangs up their phone while with a customer: the customer is hung up too, ended by the agent', async (t) => {
  const env = redisEnv('bridge-hangup')
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(pool, () => SINK_SDP, logger)
  const relay = new EventEmitter()
  const carrier = await gateway('carrier-answer-wait-bye.xml')
  // the phone hangs up on its own a few seconds after answering; the customer is joined well before
  const phone = await gateway('phone-answer-then-hang-up.xml', { hold_ms: '4000' })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({
    trunks: ({ trunk }) => [trunk(carrier)],
    media: anchor,
    // the port is built before the sessions (they share its connection): relay the sessions' ends to it
    agents: { sessionId: (agentId) => sessions.sessionId(agentId), onSessionEnded: (l) => void relay.on('ended', l) },
  })
  // no second session during the test: the retry after the phone's hang-up is a minute away
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger, retryMs: 60_000, maxRetryMs: 60_000 })
  sessions.onSessionEnded((agentId, id) => relay.emit('ended', agentId, id))
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  await store.apply('agent-8', { callId: 'reg-2', cseq: 1 }, [{ uri: `sip:agent8@127.0.0.1:${phone.port}`, expires: 600 }])
  const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
  sessions.login('agent-8')
  const { sessionId } = await up
  const req = request()
  // bridged the moment the port says answered, as the engine does (the anchor may not have the carrier's SDP yet)
  const bridged = new Promise<void>((resolve, reject) => {
    h.port.on('answered', (e) => {
      if (e.callId === req.callId) h.port.bridge(req.callId, 'agent-8').then(resolve, reject)
    })
  })
  await h.port.originate(req)
  await bridged
  const ended = (await h.waitFor('ended', req.callId)) as EndedEvent
  t.equal(ended.endedBy, 'agent', 'the customer\'s call ended by the agent')
  t.strictSame(h.names(req.callId), ['ringing', 'answered', 'bridged', 'ended'])
  const carrierRun = await carrier.done
  t.equal(carrierRun.code, 0, 'the carrier got our BYE')
  t.equal((await phone.done).code, 0, 'the phone hung up and got its 200')
  t.equal(sessions.state('agent-8'), 'waiting', 'the agent is still logged in, the session to be placed again')
  await until(() => anchor.anchored() === 0, 'both calls\' media released')
  t.strictSame(await calls(), [], 'rtpengine lists no session')
  t.notOk((await calls()).includes(sessionId))
  await sessions.logout('agent-8')
  t.equal(sessions.count(), 0)
  const double = h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
})
