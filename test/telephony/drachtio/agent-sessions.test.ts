/**
 * Nailed-up agent sessions (issue 5) through the drachtio double (or a real server) with sipp: one sipp registers the
 * agent (digest, through the engine's registrar) with a Contact pointing at a second sipp, the agent's phone, which
 * takes the session the engine places on login. Checks the INVITE the phone got, that a dropped session is placed
 * again while the agent is logged in, that a session waits for the phone to register, and that logout leaves nothing.
 */
import t from 'tap'
import { StaticSdp } from '../../../engine/telephony/drachtio/media-anchor.js'
import {
  AgentSessionEvents,
  AgentSessions,
  natProxy,
  pickBinding,
  type AgentSessionDown,
  type AgentSessionUp,
} from '../../../engine/telephony/drachtio/agent-sessions.js'
import { RegistrarEvents, type BindingsEvent } from '../../../engine/telephony/registrar/drachtio-registrar.js'
import { startSipp, type SippRun } from '../../doubles/drachtio/replay/sipp.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'
import { REALM, registrarHarness, type RegistrarHarness } from '../registrar/registrar-harness.js'
import { carrierScenario } from './telephony-harness.js'

interface Rig {
  h: RegistrarHarness
  sessions: AgentSessions
  agentId: string
  ups: AgentSessionUp[]
  downs: AgentSessionDown[]
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

async function rig(t: Tap, opts: { t1Ms?: number; retryMs?: number } = {}): Promise<Rig> {
  const h = await registrarHarness({}, opts.t1Ms)
  const agent = await h.agents.create({ name: 'Alice', extension: '201' })
  await h.credentials.setPassword(agent.id, 'alice', REALM, 'alice-secret-1')
  const sessions = new AgentSessions({
    connection: h.conn,
    registrations: h.store,
    media: new StaticSdp(APP_SDP),
    clock: h.clock,
    logger: h.logger,
    retryMs: opts.retryMs ?? 100,
    maxRetryMs: opts.retryMs ?? 100,
    answerTimeoutMs: 15_000,
  })
  h.registrar.on(RegistrarEvents.Bindings, (e: BindingsEvent) => sessions.onBindingsChanged(e.agentId, e.bindings.length))
  const ups: AgentSessionUp[] = []
  const downs: AgentSessionDown[] = []
  sessions.on(AgentSessionEvents.Up, (e: AgentSessionUp) => void ups.push(e))
  sessions.on(AgentSessionEvents.Down, (e: AgentSessionDown) => void downs.push(e))
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  return { h, sessions, agentId: agent.id, ups, downs }
}

async function register(h: RegistrarHarness, phone: SippRun): Promise<void> {
  const run = await (await h.phone('agent-register-phone-at.xml', ['-key', 'phone_port', String(phone.port)])).done
  if (run.code !== 0) throw new Error(`registration failed: ${run.stderr}`)
}

async function noDialogs(r: Rig): Promise<void> {
  const double = r.h.target.double
  if (double) await until(() => double.dialogCount === 0, 'the double to hold no dialog')
}

t.test('login: the registered phone gets the session with auto-answer hints; logout ends it with BYE', async (t) => {
  const r = await rig(t)
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 20 })
  await register(r.h, phone)
  r.sessions.login(r.agentId)
  await until(() => r.ups.length === 1, 'the session to come up')
  t.equal(r.sessions.state(r.agentId), 'up')
  const up = r.ups[0]!
  t.equal(up.contact, `sip:alice@127.0.0.1:${phone.port}`, 'the registered Contact was called')
  t.equal(r.sessions.sessionId(r.agentId), up.sessionId)
  await r.sessions.logout(r.agentId)
  const run = await phone.done
  t.equal(run.code, 0, 'the phone answered and got our BYE', { stderr: run.stderr })
  const invite = run.trace.find((e) => e.dir === 'received' && e.text.startsWith('INVITE'))?.text ?? ''
  t.match(invite, new RegExp(`^INVITE sip:alice@127\\.0\\.0\\.1:${phone.port} SIP/2\\.0`))
  t.match(invite, /\nCall-Info: <sip:cadence>;answer-after=0/)
  t.match(invite, new RegExp(`\\nX-Cadence-Agent-Session: ${up.sessionId}`))
  t.match(invite, /\nm=audio 40000 RTP\/AVP 0/, 'the media anchor\'s SDP was offered')
  t.ok(run.trace.some((e) => e.dir === 'received' && e.text.startsWith('BYE')), 'BYE on logout')
  t.strictSame(r.downs.map((d) => d.reason), ['logged-out'])
  t.equal(r.sessions.state(r.agentId), 'logged-out')
  t.equal(r.sessions.count(), 0)
  await noDialogs(r)
})

t.test('the phone hangs up: the session is placed again while the agent is logged in', async (t) => {
  const r = await rig(t, { t1Ms: 20 })
  const phone = await startSipp({ scenario: 'uas-answer-then-bye.xml', limitSeconds: 20, extra: ['-m', '2'] })
  await register(r.h, phone)
  r.sessions.login(r.agentId)
  await until(() => r.ups.length === 2 && r.downs.filter((d) => d.reason === 'phone-hung-up').length === 2, 'two sessions, each hung up by the phone')
  const [first, second] = r.ups
  t.not(first!.sessionId, second!.sessionId, 'a new session each time')
  const hungUp = r.downs.filter((d) => d.reason === 'phone-hung-up')
  t.ok(hungUp.every((d) => d.retryInMs !== undefined && d.retryInMs > 0), 'each drop schedules another attempt')
  const run = await phone.done
  t.equal(run.code, 0, 'the phone took both sessions', { stderr: run.stderr })
  await r.sessions.logout(r.agentId)
  await until(() => r.sessions.count() === 0, 'the session to be gone after logout')
  t.equal(r.downs.at(-1)?.reason, 'logged-out', 'the last word is the logout')
  await noDialogs(r)
})

t.test('logged in before the phone registered: the session waits, then comes up on registration', async (t) => {
  const r = await rig(t, { retryMs: 60_000 })
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 20 })
  r.sessions.login(r.agentId)
  await until(() => r.downs.length === 1, 'the first attempt to find no binding')
  t.match(r.downs[0], { reason: 'not-registered', retryInMs: 60_000 })
  t.equal(r.sessions.state(r.agentId), 'waiting')
  await register(r.h, phone)
  await until(() => r.ups.length === 1, 'the session to come up once the phone registered (not after the 60 s retry)')
  await r.sessions.logout(r.agentId)
  t.equal((await phone.done).code, 0)
  await noDialogs(r)
})

t.test('a phone behind NAT is called at the address its REGISTER came from', async (t) => {
  const r = await rig(t)
  const phone = await startSipp({ scenario: carrierScenario('carrier-answer-wait-bye.xml'), limitSeconds: 20 })
  // as the registrar stores it for a phone whose Contact names its private address
  await r.h.store.apply(r.agentId, { callId: 'nat-1', cseq: 1 }, [{ uri: 'sip:alice@192.168.1.20:5060', expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phone.port,
    transport: 'udp',
  })
  r.sessions.login(r.agentId)
  await until(() => r.ups.length === 1, 'the session to come up')
  await r.sessions.logout(r.agentId)
  const run = await phone.done
  t.equal(run.code, 0)
  t.match(run.trace.find((e) => e.dir === 'received' && e.text.startsWith('INVITE'))?.text ?? '', /^INVITE sip:alice@192\.168\.1\.20:5060 SIP\/2\.0/, 'Request-URI kept, sent to the NAT address')
  await noDialogs(r)
})

t.test('binding choice and NAT detection', async (t) => {
  const b = (uri: string, expiresAt: number, receivedHost?: string, receivedPort?: number) => ({
    uri,
    expiresAt,
    details: { ...(receivedHost ? { receivedHost } : {}), ...(receivedPort ? { receivedPort } : {}) },
  })
  t.equal(pickBinding([b('sip:a@1', 10), b('sip:a@2', 30), b('sip:a@3', 20)])?.uri, 'sip:a@2', 'the last refreshed')
  t.equal(pickBinding([]), undefined)
  t.equal(natProxy(b('sip:a@10.0.0.1:5070', 1, '10.0.0.1', 5070)), undefined, 'same address: no proxy')
  t.equal(natProxy(b('sip:a@10.0.0.1', 1, '10.0.0.1', 5062)), undefined, 'same host, another port: the Contact is trusted')
  t.equal(natProxy(b('sip:a@192.168.1.2:5060;transport=udp', 1, '203.0.113.9', 40123)), 'sip:203.0.113.9:40123')
  t.equal(natProxy(b('sip:a@192.168.1.2', 1)), undefined, 'nothing known about the source')
})
