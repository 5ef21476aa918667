/**
 * Agent sessions across a drachtio reconnect (issue 5 §1 and §4): two agents' nailed-up sessions are up on a real
 * rtpengine; one phone then vanishes without a BYE; the double injects a corrupt frame, the engine reconnects and
 * probes each session in its dialog on the new connection: the phone that answers keeps its session (and later gets
 * our BYE at logout, sent on the new connection), the vanished one's session is ended as if the phone had hung up
 * (its media released, dialled again later). rtpengine's own list and the double's dialogs are checked afterwards.
 */
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { AgentSessionEvents, AgentSessions, type AgentSessionDown } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { ConnectionEvents } from '../../../engine/telephony/drachtio/connection.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'
import { eventually, rtpengineFixture } from './media-fixture.js'
import { gateway, harness } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await rtpengineFixture(t, logger)
const { pool, engine } = rtpe
/** rtpengine's list as it is now (the test waits for deletes itself). */
async function rtpengineCalls(): Promise<string[]> {
  return (await pool.command(engine, 'list', { limit: 100 })).calls ?? []
}

t.test('after a reconnect, a session whose phone still answers is kept; a vanished one is ended and released', async (t) => {
  const env = redisEnv('sessions-reconnect')
  t.teardown(() => env.cleanup())
  const anchor = new RtpengineAnchor(pool, () => APP_SDP, logger)
  const stays = await gateway('carrier-answer-options-wait-bye.xml', { options_status: '200', options_reason: 'OK' }, 60)
  const vanishes = await gateway('carrier-answer-vanish.xml', {}, 60)
  // a short T1: the double's 408 for the OPTIONS nobody answers comes after 64*T1
  const h = await harness({ t1Ms: 20, trunks: () => [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:9' }] }], media: anchor })
  const double = h.target.double
  if (!double) {
    await h.close()
    t.pass('real server configured: a corrupt frame is a double-only feature')
    return
  }
  const clock = new RealClock()
  const store = new RegistrationStore(env.connect(), env.prefix, clock)
  // no redial during the test (the vanished phone is gone), no second probe of the kept one
  const sessions = new AgentSessions({ connection: h.conn, registrations: store, media: anchor, clock, logger, retryMs: 600_000, maxRetryMs: 600_000, orphanProbeMs: 600_000, probeLimitMs: 10_000 })
  t.teardown(async () => {
    await sessions.close()
    await h.close()
  })
  const ids: Record<string, string> = {}
  for (const [agent, phone] of [['agent-1', stays], ['agent-2', vanishes]] as const) {
    await store.apply(agent, { callId: `reg-${agent}`, cseq: 1 }, [{ uri: `sip:${agent}@127.0.0.1:${phone.port}`, expires: 600 }])
    const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
    sessions.login(agent)
    ids[agent] = (await up).sessionId
  }
  t.equal((await vanishes.done).code, 0, 'the second phone answered and went away without a BYE')
  t.equal((await rtpengineCalls()).length, 2, 'rtpengine anchors both sessions')
  const ended: string[] = []
  sessions.onSessionEnded((agentId) => ended.push(agentId))
  const downs: AgentSessionDown[] = []
  sessions.on(AgentSessionEvents.Down, (d: AgentSessionDown) => downs.push(d))

  let generation = 1
  h.conn.on(ConnectionEvents.Up, (up: { generation: number }) => (generation = up.generation))
  double.injectCorruptFrame()
  await until(() => generation === 2 && sessions.lastReconcile !== undefined, 'the reconnect and the sessions\' reconcile', 20_000)
  const decision = await sessions.lastReconcile!
  t.strictSame(decision, { kept: ['agent-1'], dropped: ['agent-2'] }, 'the phone that answers in its dialog keeps its session')
  t.equal(sessions.state('agent-1'), 'up')
  t.equal(sessions.state('agent-2'), 'waiting', 'the other is to be dialled again')
  t.strictSame(ended, ['agent-2'], 'its end is told (a customer joined to it would be hung up)')
  t.match(downs, [{ agentId: 'agent-2', reason: 'drachtio-lost', sessionId: ids['agent-2'] }])
  await eventually(async () => (await rtpengineCalls()).length === 1, 'the lost session\'s media to be deleted')
  t.strictSame(await rtpengineCalls(), [ids['agent-1']], 'rtpengine keeps only the kept session')

  // the kept session's dialog is orphaned: logout reaches the phone by a BYE on the new connection
  await sessions.logout('agent-1')
  t.equal((await stays.done).code, 0, 'the kept phone got our BYE and answered it')
  await sessions.logout('agent-2')
  await eventually(async () => (await rtpengineCalls()).length === 0, 'every session released')
  await until(() => double.dialogCount === 0, 'the double to forget every dialog', 20_000)
  t.equal(sessions.count(), 0)
})
