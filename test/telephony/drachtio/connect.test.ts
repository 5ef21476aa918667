/**
 * a-connect: authenticate, route registrations (with drachtio-srf's duplicate route frames), one ping, disconnect.
 */
import t from 'tap'
import { connectSrf, startTarget, until } from '../../doubles/drachtio/replay/target.js'
import { compareWithCapture } from '../../doubles/drachtio/replay/replay.js'

t.test('a-connect: authenticate, routes, ping/pong', async (t) => {
  // drachtio-srf only pings a server whose version looks like vX.Y.Z, or under NODE_ENV=test (as in the capture).
  const env = process.env.NODE_ENV
  process.env.NODE_ENV = 'test'
  t.teardown(() => {
    process.env.NODE_ENV = env
  })
  const target = await startTarget()
  t.teardown(() => target.close())
  const noop = (): void => undefined
  const c = await connectSrf(target, { setup: (srf) => srf.invite(noop), pingIntervalMs: 5000 })
  ;(c.srf as unknown as { register(fn: () => void): void }).register(noop)
  ;(c.srf as unknown as { options(fn: () => void): void }).options(noop)
  await until(() => target.recorder.frames.some((f) => f.payload.endsWith('|OK|pong')), 'the pong', 15000)
  await c.disconnect()
  compareWithCapture(t, 'a-connect', { frames: target.recorder.frames, trace: [], sippCode: 0, sippStderr: '', errors: [], target }, { sip: false })
})
