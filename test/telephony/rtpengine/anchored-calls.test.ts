/**
 * Calls anchored on a real rtpengine (userspace mode) through DrachtioTelephony, the drachtio double and sipp
 * gateways (issue 5): the carrier is offered rtpengine's SDP, every offer is deleted on every exit path (answered
 * and hung up by either side, rejected, crank-back), checked against rtpengine's own `list`; the ng pool checks
 * replies (an error result is a rejection) and tracks health with pings.
 */
import pino from 'pino'
import t from 'tap'
import { NgPool, RtpengineError } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { freeUdpPort } from '../../doubles/drachtio/replay/sipp.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'
import { gateway, harness, request } from '../drachtio/telephony-harness.js'
import { startRtpengineDaemon } from './rtpengine-daemon.js'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const rtpe = await startRtpengineDaemon()
t.teardown(() => rtpe.stop())
const engine = { host: rtpe.host, port: rtpe.ngPort }
const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
t.teardown(() => pool.close())
const anchor = new RtpengineAnchor(pool, () => APP_SDP, logger)

async function sessions(): Promise<string[]> {
  return (await pool.command(engine, 'list', { limit: 100 })).calls ?? []
}

t.test('the pool: health ping, replies checked', async (t) => {
  t.equal(await pool.checkHealth(), 1, 'rtpengine answers its ping')
  await t.rejects(pool.command(engine, 'answer', { 'call-id': 'nope', 'from-tag': 'x', 'to-tag': 'y', sdp: APP_SDP }), RtpengineError, 'an error result rejects')
  const dead = new NgPool({ engines: [{ host: '127.0.0.1', port: await freeUdpPort() }], logger, pingIntervalMs: 0, timeoutMs: 300 })
  t.teardown(() => dead.close())
  t.equal(await dead.checkHealth(), 0, 'a silent engine is unhealthy')
  t.throws(() => dead.pick(), RtpengineError, 'and never picked')
})

t.test('answered and hung up by us: the carrier saw rtpengine\'s SDP, the session is deleted', async (t) => {
  const gw = await gateway('carrier-answer-wait-bye.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('answered', req.callId)
  t.ok((await sessions()).includes(req.callId), 'rtpengine holds the call while it is up')
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  const run = await gw.done
  t.equal(run.code, 0)
  const invite = run.trace.find((e) => e.dir === 'received' && e.text.startsWith('INVITE'))?.text ?? ''
  const port = Number(/m=audio (\d+)/.exec(invite)?.[1])
  t.ok(port >= rtpe.portMin && port <= rtpe.portMax, `the carrier is offered an rtpengine port (${port})`)
  await until(() => anchor.anchored() === 0, 'the anchor to release the call')
  t.strictSame(await sessions(), [], 'rtpengine lists no session')
})

t.test('every exit path deletes its offer: customer BYE, busy, crank-back, cancel', async (t) => {
  const byeGw = await gateway('uas-answer-then-bye.xml')
  const busyGw = await gateway('carrier-ring-reject.xml', { status: '486', reason: 'Busy Here' })
  const failGw = await gateway('carrier-reject.xml', { status: '503', reason: 'Service Unavailable' })
  const okGw = await gateway('carrier-answer-wait-bye.xml')
  const ringGw = await gateway('uas-ring-then-cancelled.xml')
  const h = await harness({
    trunks: ({ trunk }) => [
      { ...trunk(byeGw), id: 'bye' },
      { ...trunk(busyGw), id: 'busy' },
      { ...trunk(failGw, okGw), id: 'crank' },
      { ...trunk(ringGw), id: 'ring' },
    ],
    media: anchor,
  })
  t.teardown(() => h.close())
  const bye = request({ trunkId: 'bye' })
  const busy = request({ trunkId: 'busy' })
  const crank = request({ trunkId: 'crank' })
  const ring = request({ trunkId: 'ring' })
  await Promise.all([bye, busy, crank, ring].map((r) => h.port.originate(r)))
  await h.waitFor('ended', bye.callId)
  t.equal(((await h.waitFor('failed', busy.callId)) as { cause: string }).cause, 'busy')
  await h.waitFor('answered', crank.callId)
  await h.waitFor('ringing', ring.callId)
  await h.port.hangup(crank.callId, 'test')
  await h.port.hangup(ring.callId, 'test')
  await h.waitFor('ended', crank.callId)
  await h.waitFor('failed', ring.callId)
  for (const g of [byeGw, busyGw, failGw, okGw, ringGw]) t.equal((await g.done).code, 0)
  await until(() => anchor.anchored() === 0, 'the anchor to release every call')
  t.strictSame(await sessions(), [], 'rtpengine lists no session after all calls ended')
  t.equal(h.port.activeCalls(), 0)
})

t.test('early media (183 with SDP) is anchored before the answer', async (t) => {
  const gw = await gateway('uas-183-sdp-then-200.xml')
  const h = await harness({ trunks: ({ trunk }) => [trunk(gw)], media: anchor })
  t.teardown(() => h.close())
  const req = request()
  await h.port.originate(req)
  await h.waitFor('early-media', req.callId)
  // the carrier's early SDP reaches rtpengine as an answer under the 183's To-tag
  let tags: string[] = []
  for (let i = 0; i < 50 && !tags.some((tag) => tag.includes('SIPpTag')); i++) {
    const q = await pool.command(engine, 'query', { 'call-id': req.callId }).catch(() => undefined)
    tags = Object.keys((q?.tags as Record<string, unknown> | undefined) ?? {})
    if (!tags.some((tag) => tag.includes('SIPpTag'))) await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(tags.some((tag) => tag.includes('SIPpTag')), `rtpengine knows the callee's tag (${tags.join(', ')})`)
  await h.waitFor('answered', req.callId)
  await h.port.hangup(req.callId, 'test')
  await h.waitFor('ended', req.callId)
  t.equal((await gw.done).code, 0)
  await until(() => anchor.anchored() === 0, 'the anchor to release the call')
  t.strictSame(await sessions(), [], 'rtpengine lists no session')
})
