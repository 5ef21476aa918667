/**
 * Issue 5 §1: a garbled admin stream costs the connection, not the calls' accounting. Two answered calls are anchored
 * on a real rtpengine and hold channels in Redis; one carrier then vanishes without a BYE; the double injects a
 * corrupt frame; the engine contains it, reconnects, probes each dialog on the new connection and reconciles: the call
 * that still answers is kept (and later ended by a BYE sent on the new connection), the vanished one is ended once,
 * its channel and rtpengine session given back. Channels, rtpengine's own call list and the double's dialogs are
 * checked afterwards.
 */
import { Redis } from 'ioredis'
import pino from 'pino'
import t from 'tap'
import { RealClock } from '../../../engine/clock.js'
import { TrunkCaps } from '../../../engine/store/redis/trunk-caps.js'
import { ConnectionEvents } from '../../../engine/telephony/drachtio/connection.js'
import { CallEvents } from '../../../engine/telephony/port.js'
import { NgPool } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'
import { gateway, harness, request } from './telephony-harness.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const redis = new Redis({ host: '127.0.0.1', port: 6379 })
const prefix = `test-reconcile-${process.pid}-${Date.now()}`
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})
const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())

/** A bounded wait on an asynchronous condition (Redis, rtpengine); fails with what it waited for. */
async function eventually(check: () => Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const until = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function sessions(): Promise<string[]> {
  return ((await pool.command(engine, 'list', { limit: 100 })).calls as string[] | undefined) ?? []
}

t.test('after a corrupt frame and a reconnect, a live call is kept and a dead one is ended once with its resources', async (t) => {
  const caps = new TrunkCaps(redis, prefix, new RealClock())
  const stays = await gateway('carrier-answer-options-wait-bye.xml')
  const vanishes = await gateway('carrier-answer-vanish.xml')
  const h = await harness({
    // a short T1: the double's 408 for the OPTIONS nobody answers comes after 64*T1
    t1Ms: 20,
    probeLimitMs: 10_000,
    // the kept call is probed again only after the test is over
    orphanProbeMs: 600_000,
    media: new RtpengineAnchor(pool, () => APP_SDP, logger),
    caps,
    trunks: ({ trunk }) => [
      { ...trunk(stays), id: 'trunk-stays', maxChannels: 5 },
      { ...trunk(vanishes), id: 'trunk-vanishes', maxChannels: 5 },
    ],
  })
  t.teardown(() => h.close())
  const double = h.target.double
  if (!double) {
    t.pass('real server configured: a corrupt frame is a double-only feature')
    return
  }
  const kept = request({ trunkId: 'trunk-stays' })
  const lost = request({ trunkId: 'trunk-vanishes' })
  await h.port.originate(kept)
  await h.port.originate(lost)
  await h.waitFor(CallEvents.Answered, kept.callId)
  await h.waitFor(CallEvents.Answered, lost.callId)
  t.equal((await vanishes.done).code, 0, 'the vanishing carrier answered and went away without a BYE')
  t.equal(await caps.inUse('trunk-stays'), 1, 'a channel held for the kept call')
  t.equal(await caps.inUse('trunk-vanishes'), 1, 'a channel held for the lost call')
  t.equal((await sessions()).length, 2, 'rtpengine anchors both calls')

  let generation = 1
  h.conn.on(ConnectionEvents.Up, (up: { generation: number }) => (generation = up.generation))
  double.injectCorruptFrame()
  await until(() => generation === 2, 'the engine to reconnect after the corrupt frame', 20_000)
  await until(() => h.port.lastReconcile !== undefined, 'the reconcile to start')
  const decision = await h.port.lastReconcile!
  t.strictSame(decision.keep, [kept.callId], 'the call whose far end answers in its dialog is kept')
  t.strictSame(decision.end.map((e) => e.callId), [lost.callId], 'the call whose far end is gone is ended')
  t.match(decision.end[0]?.why ?? '', /408|no-response/, 'because nobody answered in its dialog')

  await eventually(async () => (await sessions()).length === 1, 'the lost call\'s rtpengine session to be deleted')
  t.strictSame(await sessions(), [kept.callId], 'rtpengine keeps only the kept call')
  await eventually(async () => (await caps.inUse('trunk-vanishes')) === 0, 'the lost call\'s channel to be released')
  t.equal(await caps.inUse('trunk-stays'), 1, 'the kept call keeps its channel')
  t.strictSame(h.names(lost.callId), [CallEvents.Ringing, CallEvents.Answered, CallEvents.Ended], 'the lost call ended exactly once')
  t.equal((h.events.find((e) => e.name === CallEvents.Ended && e.event.callId === lost.callId)?.event as { endedBy?: string }).endedBy, 'system')
  t.notOk(h.names(kept.callId).includes(CallEvents.Ended), 'the kept call goes on')
  t.equal(h.port.activeCalls(), 1, 'the adapter carries the kept call only')

  // the kept call's dialog is orphaned in the server: our hangup reaches its far end on the new connection
  await h.port.hangup(kept.callId, 'test')
  t.equal((await stays.done).code, 0, 'the kept carrier got our BYE and answered it')
  t.strictSame(h.names(kept.callId), [CallEvents.Ringing, CallEvents.Answered, CallEvents.Ended], 'the kept call ended exactly once')
  await eventually(async () => (await sessions()).length === 0 && (await caps.inUse('trunk-stays')) === 0, 'everything released')
  await until(() => double.dialogCount === 0, 'the double to forget every dialog (the lost one after its BYE timed out)', 20_000)
  t.equal(double.dialogCount, 0, 'no dialog left in the server')
  t.equal(h.port.activeCalls(), 0, 'no call left in the adapter')
})

t.test('a call kept across a reconnect is probed from then on: its far end vanishing later ends it once', async (t) => {
  const caps = new TrunkCaps(redis, prefix, new RealClock())
  const carrier = await gateway('carrier-answer-options-once-vanish.xml')
  const h = await harness({
    t1Ms: 20,
    probeLimitMs: 10_000,
    // short, so the test sees the next probe; the default is 30 s
    orphanProbeMs: 200,
    caps,
    trunks: ({ trunk }) => [{ ...trunk(carrier), id: 'trunk-later', maxChannels: 5 }],
  })
  t.teardown(() => h.close())
  const double = h.target.double
  if (!double) {
    t.pass('real server configured: a corrupt frame is a double-only feature')
    return
  }
  const call = request({ trunkId: 'trunk-later' })
  await h.port.originate(call)
  await h.waitFor(CallEvents.Answered, call.callId)
  let generation = 1
  h.conn.on(ConnectionEvents.Up, (up: { generation: number }) => (generation = up.generation))
  double.injectCorruptFrame()
  await until(() => generation === 2 && h.port.lastReconcile !== undefined, 'the engine to reconnect and reconcile', 20_000)
  t.strictSame((await h.port.lastReconcile!).keep, [call.callId], 'kept: its far end answered the first probe')
  t.equal((await carrier.done).code, 0, 'then the carrier vanished without a BYE')
  const ended = (await h.waitFor(CallEvents.Ended, call.callId)) as { endedBy?: string }
  t.equal(ended.endedBy, 'customer', 'the next probe nobody answered ended it, as the far end')
  t.strictSame(h.names(call.callId), [CallEvents.Ringing, CallEvents.Answered, CallEvents.Ended], 'exactly once')
  await eventually(async () => (await caps.inUse('trunk-later')) === 0, 'its channel to be released')
  t.equal(h.port.activeCalls(), 0, 'nothing left in the adapter')
})
