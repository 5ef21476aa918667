/**
 * A supervisor listens to a live call (issue 5 §7) on a real rtpengine (userspace) with the drachtio double and sipp:
 * the carrier sipp talks (sipp's G.711 recording) once answered, the agent's phone is a sipp echoing whatever RTP
 * reaches it, and the supervisor's phone is a sipp whose answer names one recvonly m=audio per party at UDP ports
 * this test counts packets on. Checked: the supervisor hears both parties; the agent and the carrier get no re-INVITE;
 * stop, the supervisor hanging up and the call ending each end the supervision, with nothing left in rtpengine.
 */
import dgram from 'node:dgram'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessionEvents, AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { DrachtioSupervision } from '../../../engine/telephony/drachtio/supervisor-listen.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { NgPool } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import {
  SupervisionEvents,
  SupervisionNotFound,
  SupervisionRefused,
  type SupervisionEnded,
} from '../../../engine/telephony/supervisor/supervision.js'
import type { SippRun } from '../../doubles/drachtio/replay/sipp.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'
import { carrierScenario, gateway, harness, request, type Harness } from './telephony-harness.js'

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())

// the engine's own RTP endpoint (a call's media before an agent has it): discards
const sink = dgram.createSocket('udp4')
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve))
t.teardown(() => sink.close())
const SINK_SDP = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sink.address().port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')

/** A UDP port standing for one m=audio of the supervisor's phone: counts RTP packets and their SSRCs. */
class Ear {
  packets = 0
  readonly ssrcs = new Set<number>()
  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (m) => {
      if (m.length < 12 || m[0]! >> 6 !== 2) return
      this.packets++
      this.ssrcs.add(m.readUInt32BE(8))
    })
  }
  static async open(): Promise<Ear> {
    const s = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
    return new Ear(s)
  }
  get port(): number {
    return this.socket.address().port
  }
  close(): void {
    this.socket.close()
  }
}

async function calls(): Promise<string[]> {
  return (await pool.command(engine, 'list', { limit: 100 })).calls ?? []
}

/** Packets rtpengine received from one party (tag) of a call. */
async function received(callId: string, tag: string): Promise<number> {
  const q = (await pool.command(engine, 'query', { 'call-id': callId })) as unknown as {
    tags?: Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }>
  }
  return (q.tags?.[tag]?.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + (s.stats?.packets ?? 0), 0)
}

/**
 * Tags that receive a copy of some party's media in the call. rtpengine 10.5's `unsubscribe` stops the copy and
 * drops the link, but keeps the subscription's own (now idle) party until the call is deleted.
 */
async function subscribers(callId: string): Promise<string[]> {
  const q = (await pool.command(engine, 'query', { 'call-id': callId })) as unknown as {
    tags?: Record<string, { subscribers?: { tag: string; type?: string }[] }>
  }
  return Object.values(q.tags ?? {}).flatMap((p) => (p.subscribers ?? []).filter((x) => x.type !== 'offer/answer').map((x) => x.tag))
}

async function tagsOf(callId: string): Promise<string[]> {
  const q = (await pool.command(engine, 'query', { 'call-id': callId })) as unknown as { tags?: Record<string, unknown> }
  return Object.keys(q.tags ?? {})
}

interface Scene {
  h: Harness
  anchor: RtpengineAnchor
  sessions: AgentSessions
  supervision: DrachtioSupervision
  carrier: SippRun
  phone: SippRun
  sessionId: string
  callId: string
  ended: SupervisionEnded[]
}

/** A customer answered by the carrier sipp and bridged to agent-1's nailed-up session (an echoing sipp). */
async function bridgedCall(t: Tap, name: string): Promise<Scene> {
  const env = redisEnv(name)
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(pool, () => SINK_SDP, logger)
  const carrier = await gateway('carrier-answer-talk-wait-bye.xml')
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 30, extra: ['-rtp_echo'] })
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  let sessions!: AgentSessions
  const h = await harness({ trunks: ({ trunk }) => [trunk(carrier)], media: anchor, agents: { sessionId: (agentId) => sessions.sessionId(agentId) } })
  sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger })
  const supervision = new DrachtioSupervision({ connection: h.conn, calls: h.port, media: anchor, clock, logger, registrations: store })
  const ended: SupervisionEnded[] = []
  supervision.on(SupervisionEvents.Ended, (e: SupervisionEnded) => void ended.push(e))
  t.teardown(async () => {
    await supervision.close()
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
  return { h, anchor, sessions, supervision, carrier, phone, sessionId, callId: req.callId, ended }
}

/** A supervisor phone (sipp) answering with one m=audio per party at the two ears. */
async function supervisorPhone(file: string, ears: [Ear, Ear], fill: Record<string, string> = {}): Promise<SippRun> {
  return gateway(file, { first_port: String(ears[0].port), second_port: String(ears[1].port), ...fill })
}

async function wrapUp(t: Tap, s: Scene): Promise<void> {
  await s.h.port.hangup(s.callId, 'test')
  await s.h.waitFor('ended', s.callId)
  await s.sessions.logout('agent-1')
  await until(() => s.anchor.anchored() === 0, 'every call\'s media released')
  t.strictSame(await calls(), [], 'rtpengine lists no session')
  t.equal(s.supervision.count(), 0, 'no supervision kept')
  const carrierRun = await s.carrier.done
  t.equal(carrierRun.trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE')).length, 1, 'the carrier got no re-INVITE')
  const phoneRun = await s.phone.done
  t.equal(phoneRun.trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE')).length, 1, 'the agent phone got no re-INVITE')
  const double = s.h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
}

t.test('the supervisor hears both parties of a bridged call, then stops listening', async (t) => {
  const s = await bridgedCall(t, 'sup-listen')
  const ears: [Ear, Ear] = [await Ear.open(), await Ear.open()]
  t.teardown(() => ears.forEach((e) => e.close()))
  const sup = await supervisorPhone('supervisor-listen-wait-bye.xml', ears)
  const view = await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${sup.port}` })
  t.equal(view.state, 'up')
  t.equal(s.supervision.get(view.supervisionId)?.state, 'up')
  await until(() => ears[0].packets >= 50 && ears[1].packets >= 50, `both parties' audio at the supervisor (agent side ${ears[0].packets}, customer ${ears[1].packets})`, 20_000)
  t.ok(ears[0].packets >= 50, `the agent's side reached the supervisor (${ears[0].packets} packets)`)
  t.ok(ears[1].packets >= 50, `the customer reached the supervisor (${ears[1].packets} packets)`)
  const engineSide = `cadence-${s.callId}`
  const carrierSide = (await tagsOf(s.callId)).find((tag) => tag !== engineSide && tag.includes('SIPpTag'))!
  t.ok(carrierSide, 'the carrier party is in the call')
  t.ok((await received(s.callId, engineSide)) > 0, 'the agent\'s audio comes into the customer\'s call from the session')
  t.equal((await subscribers(s.callId)).length, 2, 'while listening, both parties are copied to the subscription')

  await s.supervision.stop(view.supervisionId)
  const supDone = await sup.done
  t.equal(supDone.code, 0, 'the supervisor phone got our BYE')
  const invite = supDone.trace.find((e) => e.dir === 'received' && e.text.startsWith('INVITE'))!.text
  t.equal((invite.match(/^m=audio /gm) ?? []).length, 2, 'the supervisor was offered one audio stream per party')
  t.equal((invite.match(/^a=sendonly/gm) ?? []).length, 2, 'both send-only: nobody hears the supervisor')
  t.match(invite, /X-Cadence-Supervision: sup-/, 'the INVITE names the supervision')
  t.equal(s.ended[0]?.reason, 'stopped')
  t.equal(s.supervision.get(view.supervisionId), undefined)
  t.strictSame(await subscribers(s.callId), [], 'no party of the call is copied to a subscriber any more')
  // the customer keeps talking; none of it reaches the supervisor any more
  const heard = ears.map((e) => e.packets)
  const fromCarrier = await received(s.callId, carrierSide)
  for (let i = 0; i < 500 && (await received(s.callId, carrierSide)) < fromCarrier + 25; i++) await new Promise((r) => setTimeout(r, 20))
  t.ok((await received(s.callId, carrierSide)) >= fromCarrier + 25, 'the customer kept talking')
  t.strictSame(ears.map((e) => e.packets), heard, 'nothing reached the supervisor after stop')
  await wrapUp(t, s)
})

t.test('the supervisor hangs up: the subscription is removed, the call goes on', async (t) => {
  const s = await bridgedCall(t, 'sup-hangup')
  const ears: [Ear, Ear] = [await Ear.open(), await Ear.open()]
  t.teardown(() => ears.forEach((e) => e.close()))
  const sup = await supervisorPhone('supervisor-listen-hang-up.xml', ears, { hold_ms: '1500' })
  await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${sup.port}` })
  t.equal((await sup.done).code, 0, 'the supervisor hung up and got our 200')
  await until(() => s.ended.length === 1, 'the supervision to end')
  t.equal(s.ended[0]!.reason, 'supervisor-hung-up')
  t.ok(ears[0].packets > 0 && ears[1].packets > 0, 'the supervisor heard both parties meanwhile')
  t.strictSame(await subscribers(s.callId), [], 'rtpengine copies the call to nobody any more')
  t.equal(s.h.port.liveCall(s.callId)?.agentId, 'agent-1', 'the customer is still with the agent')
  await wrapUp(t, s)
})

t.test('the call ends while the supervisor listens: the supervisor gets a BYE', async (t) => {
  const s = await bridgedCall(t, 'sup-call-ends')
  const ears: [Ear, Ear] = [await Ear.open(), await Ear.open()]
  t.teardown(() => ears.forEach((e) => e.close()))
  const sup = await supervisorPhone('supervisor-listen-wait-bye.xml', ears)
  await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${sup.port}` })
  await until(() => ears[1].packets > 10, 'the customer\'s audio at the supervisor')
  await s.h.port.hangup(s.callId, 'test')
  t.equal((await sup.done).code, 0, 'the supervisor phone got our BYE')
  await until(() => s.ended.length === 1, 'the supervision to end')
  t.equal(s.ended[0]!.reason, 'call-ended')
  await wrapUp(t, s)
})

t.test('refusals: no such call, a phone that is busy (subscription removed), a phone registered under an id', async (t) => {
  const s = await bridgedCall(t, 'sup-refused')
  await t.rejects(s.supervision.start('no-such-call', 'listen', { kind: 'uri', uri: 'sip:x@127.0.0.1:5' }), SupervisionNotFound)
  await t.rejects(s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: 'tel:+15551234567' }), SupervisionRefused, 'not a SIP URI')
  await t.rejects(s.supervision.start(s.callId, 'whisper', { kind: 'uri', uri: 'sip:x@127.0.0.1:5' }), SupervisionRefused, 'whisper needs FreeSWITCH')
  await t.rejects(s.supervision.start(s.callId, 'listen', { kind: 'registered', id: 'nobody' }), SupervisionRefused, 'no phone registered')
  const busy = await gateway('carrier-reject.xml', { status: '486', reason: 'Busy Here' })
  const err = await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${busy.port}` }).catch((e: unknown) => e)
  t.ok(err instanceof SupervisionRefused && err.sipStatus === 486, `a busy phone is refused with its status (${String(err)})`)
  t.equal(s.ended.at(-1)?.reason, 'phone-failed')
  await busy.done
  t.strictSame(await subscribers(s.callId), [], 'the subscription made for the busy phone is gone')

  // a phone registered under the supervisor's id (the registrar's store), taken at its binding
  const ears: [Ear, Ear] = [await Ear.open(), await Ear.open()]
  t.teardown(() => ears.forEach((e) => e.close()))
  const sup = await supervisorPhone('supervisor-listen-wait-bye.xml', ears)
  const env = redisEnv('sup-refused-reg')
  t.teardown(() => env.cleanup())
  await new RegistrationStore(env.connect(), env.prefix, new RealClock()).apply('sup-9', { callId: 'reg-sup', cseq: 1 }, [
    { uri: `sip:sup9@127.0.0.1:${sup.port}`, expires: 600 },
  ])
  const registered = new DrachtioSupervision({
    connection: s.h.conn,
    calls: s.h.port,
    media: s.anchor,
    clock: new RealClock(),
    logger,
    registrations: new RegistrationStore(env.connect(), env.prefix, new RealClock()),
  })
  const view = await registered.start(s.callId, 'listen', { kind: 'registered', id: 'sup-9' })
  await until(() => ears[0].packets > 10 && ears[1].packets > 10, 'both parties at the registered phone')
  await registered.stop(view.supervisionId)
  t.equal((await sup.done).code, 0)
  t.equal(registered.count(), 0)
  await wrapUp(t, s)
})

t.test('the call ends while the supervisor\'s phone rings: CANCEL, start() refused, nothing left', async (t) => {
  const s = await bridgedCall(t, 'sup-ringing')
  const ringing = await gateway('carrier-silent-then-cancelled.xml')
  const started = s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${ringing.port}` }).catch((e: unknown) => e)
  // the INVITE is at the phone once rtpengine lists the subscription's party beside the call's two
  for (let i = 0; i < 500 && (await tagsOf(s.callId)).length < 3; i++) await new Promise((r) => setTimeout(r, 20))
  t.equal((await tagsOf(s.callId)).length, 3, 'the subscription was made before the phone was called')
  await s.h.port.hangup(s.callId, 'test')
  const err = await started
  t.ok(err instanceof SupervisionRefused, `start() is refused (${String(err)})`)
  t.equal((await ringing.done).code, 0, 'the ringing phone got our CANCEL')
  t.equal(s.ended.at(-1)?.reason, 'call-ended')
  await wrapUp(t, s)
})

t.test('two supervisors listen to one call at once; each stops on its own', async (t) => {
  const s = await bridgedCall(t, 'sup-two')
  const a: [Ear, Ear] = [await Ear.open(), await Ear.open()]
  const b: [Ear, Ear] = [await Ear.open(), await Ear.open()]
  t.teardown(() => [...a, ...b].forEach((e) => e.close()))
  const supA = await supervisorPhone('supervisor-listen-wait-bye.xml', a)
  const supB = await supervisorPhone('supervisor-listen-wait-bye.xml', b)
  const va = await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:a@127.0.0.1:${supA.port}` })
  const vb = await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:b@127.0.0.1:${supB.port}` })
  t.not(va.supervisionId, vb.supervisionId)
  await until(() => [...a, ...b].every((e) => e.packets > 20), 'both parties at both supervisors', 20_000)
  await s.supervision.stop(va.supervisionId)
  t.equal((await supA.done).code, 0)
  const bBefore = b[1].packets
  await until(() => b[1].packets > bBefore + 20, 'the second supervisor to keep hearing the customer')
  t.equal((await subscribers(s.callId)).length, 2, 'only the second subscription is left: both parties copied to it')
  await s.supervision.stop(vb.supervisionId)
  t.equal((await supB.done).code, 0)
  t.strictSame(await subscribers(s.callId), [])
  await wrapUp(t, s)
})

t.test('a phone that takes one audio stream (declines the second with port 0) hears the first party only', async (t) => {
  const s = await bridgedCall(t, 'sup-one-stream')
  const ear = await Ear.open()
  t.teardown(() => ear.close())
  const sup = await gateway('supervisor-listen-wait-bye.xml', { first_port: String(ear.port), second_port: '0' })
  const view = await s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${sup.port}` })
  await until(() => ear.packets > 20, 'the first stream (the agent side) at the phone')
  t.equal(view.state, 'up', 'rtpengine accepts the declined stream')
  await s.supervision.stop(view.supervisionId)
  t.equal((await sup.done).code, 0)
  t.strictSame(await subscribers(s.callId), [])
  await wrapUp(t, s)
})

t.test('a supervision still ringing is found by its call and stopped: CANCEL, start() refused, subscription removed', async (t) => {
  const s = await bridgedCall(t, 'sup-stop-ringing')
  const ringing = await gateway('carrier-silent-then-cancelled.xml')
  const started = s.supervision.start(s.callId, 'listen', { kind: 'uri', uri: `sip:supervisor@127.0.0.1:${ringing.port}` }).catch((e: unknown) => e)
  for (let i = 0; i < 500 && (await tagsOf(s.callId)).length < 3; i++) await new Promise((r) => setTimeout(r, 20))
  const [view] = s.supervision.ofCall(s.callId)
  t.equal(view?.state, 'ringing', 'listed while the phone rings')
  await s.supervision.stop(view!.supervisionId)
  const err = await started
  t.ok(err instanceof SupervisionRefused, `start() is refused (${String(err)})`)
  t.equal((await ringing.done).code, 0, 'the ringing phone got our CANCEL')
  t.equal(s.ended.at(-1)?.reason, 'stopped')
  t.strictSame(s.supervision.ofCall(s.callId), [])
  t.strictSame(await subscribers(s.callId), [], 'the subscription made for it is gone')
  await wrapUp(t, s)
})
