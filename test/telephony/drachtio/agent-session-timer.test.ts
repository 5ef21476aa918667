/**
 * RFC 4028 on agents' nailed-up sessions (issue 5 §4: session timers): a session lasts a shift, and a phone that
 * vanished without a BYE must not leave its agent looking reachable. The session INVITE asks for a timer with us as
 * refresher; a phone answering `Session-Expires: 90;refresher=uac` gets an in-dialog UPDATE every 45 s (sipp requires
 * both refreshes before our BYE), and a phone that vanished is found gone by the refresh nobody answers: its session
 * ends once (reason phone-gone, its end told as a hang-up is). Timers on a VirtualClock, SIP for real (drachtio
 * double, sipp phones).
 */
import pino from 'pino'
import t from 'tap'
import { RealClock, VirtualClock } from '../../../engine/clock.js'
import { AgentSessionEvents, AgentSessions, type AgentSessionDown } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { StaticSdp } from '../../../engine/telephony/drachtio/media-anchor.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { nailUp } from './media-fixture.js'
import { gateway, harness } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })

t.test('an agent phone naming us the refresher gets an UPDATE every half interval; a vanished one loses its session', async (t) => {
  const env = redisEnv('agent-session-timer')
  t.teardown(() => env.cleanup())
  const clock = new VirtualClock(Date.now())
  const stays = await gateway('carrier-session-timer-refreshed.xml', {}, 60)
  const vanishes = await gateway('carrier-session-timer-vanish.xml', {}, 60)
  // the double's 408 for the UPDATE nobody answers comes after 64*T1
  const h = await harness({ t1Ms: 20, trunks: () => [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:9' }] }] })
  const store = new RegistrationStore(env.connect(), env.prefix, new RealClock())
  // no redial during the test: the vanished phone is gone for good
  const sessions = new AgentSessions({ connection: h.conn, registrations: store, media: new StaticSdp(APP_SDP), clock, logger, retryMs: 600_000, maxRetryMs: 600_000, probeLimitMs: 10_000 })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const downs: AgentSessionDown[] = []
  sessions.on(AgentSessionEvents.Down, (d: AgentSessionDown) => void downs.push(d))
  const ended: string[] = []
  sessions.onSessionEnded((agentId) => void ended.push(agentId))
  // login dials at once on the session's clock: a virtual one has to be told that "at once" has come
  const nail = (agentId: string, port: number): Promise<string> => {
    const up = nailUp(sessions, store, agentId, port)
    const tick = setInterval(() => clock.advanceBy(0), 5)
    return up.finally(() => clearInterval(tick))
  }
  await nail('agent-1', stays.port)
  const goneSession = await nail('agent-2', vanishes.port)
  t.equal((await vanishes.done).code, 0, 'the second phone answered and went away without a BYE')
  const invites = h.target.recorder.frames.filter((f) => f.dir === 'APP=>SRV' && /INVITE sip:agent-/.test(f.payload))
  t.equal(invites.length, 2)
  t.ok(invites.every((f) => /\r\nSession-Expires: 1800;refresher=uac\r\n/i.test(f.payload) && /\r\nSupported: timer\r\n/i.test(f.payload)), 'the session INVITE asks for a timer, us refreshing')

  const updatesAnswered = (): number => h.target.recorder.frames.filter((f) => /\r\nSIP\/2\.0 200 OK\r\n[\s\S]*CSeq: \d+ UPDATE/.test(f.payload)).length
  clock.advanceBy(44_999)
  t.equal(updatesAnswered(), 0, 'no refresh before half the interval the phone chose (90 s)')
  clock.advanceBy(1)
  await until(() => downs.length === 1, 'the vanished phone to lose its session', 20_000)
  t.match(downs, [{ agentId: 'agent-2', sessionId: goneSession, reason: 'phone-gone' }])
  t.strictSame(ended, ['agent-2'], 'its end is told as a hang-up would be (a customer on it is hung up)')
  t.equal(sessions.state('agent-2'), 'waiting', 'to be dialled again while the agent is logged in')
  await until(() => updatesAnswered() === 1, 'the phone that stays to answer the first refresh')
  t.equal(sessions.state('agent-1'), 'up', 'the refreshed session goes on')
  clock.advanceBy(45_000)
  await until(() => updatesAnswered() === 2, 'the second refresh')
  t.equal(downs.length, 1, 'nothing else ended')

  await sessions.logout('agent-1')
  await sessions.logout('agent-2')
  const run = await stays.done
  t.equal(run.code, 0, 'sipp saw both refreshes and our BYE', { stderr: run.stderr })
})
