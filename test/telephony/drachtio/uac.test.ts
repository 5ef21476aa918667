/**
 * Outbound calls placed by drachtio-srf through the server (double, or real with DRACHTIO_ADDRESS), sipp answering as
 * the far end: each replays a capture in shared/research/drachtio-wire and compares both wires with it.
 */
import t from 'tap'
import { compareWithCapture, replay } from './replay/replay.js'
import { APP_SDP } from './replay/target.js'

t.test('b-uac-app-bye: answered call, the app hangs up', async (t) => {
  const r = await replay({ scenario: 'uas' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP, headers: { 'X-Scenario': 'b' } })
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'b-uac-app-bye', r)
})
