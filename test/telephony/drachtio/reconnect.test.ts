/**
 * What an engine can rely on after losing drachtio (issue 5: reconnect, then reconcile live calls from Redis): the
 * server keeps the dialogs of a vanished app, and a new connection can still end one by its dialog id. Code-only
 * behaviour on the real server (PROTOCOL.md §1, client-controller.cpp), reproduced by the double; needs the double
 * to drop the connection.
 */
import type Srf from 'drachtio-srf'
import t from 'tap'
import { bounded } from '../../doubles/drachtio/replay/replay.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { APP_SDP, connectSrf, startTarget, until } from '../../doubles/drachtio/replay/target.js'

t.test('after a reconnect, a call set up on the old connection is ended by its dialog id', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const double = target.double
  if (!double) {
    t.pass('real server configured: dropping the admin connection needs the double')
    return
  }
  const sipp = await startSipp({ scenario: 'uas' })
  const c = await connectSrf(target)
  t.teardown(() => c.disconnect())
  const dlg = await bounded(c.srf.createUAC(`sip:service@127.0.0.1:${sipp.port}`, { localSdp: APP_SDP }), 15000, 'the call')
  const dialogId = (dlg as unknown as { id: string }).id
  t.equal(double.dialogCount, 1, 'the call is up')

  let connects = 0
  c.srf.on('connect', () => connects++)
  double.dropAdminConnections()
  await until(() => connects === 1, 'drachtio-srf to reconnect')
  t.equal(double.dialogCount, 1, 'the server kept the dialog while no app was connected')

  // srf.request(uri, opts) with the dialog id: drachtio-srf sends `sip||<dialogId>`, the server fills in the dialog
  const request = c.srf.request as unknown as (uri: string, opts: { method: string; stackDialogId: string }) => Promise<Srf.SrfRequest>
  const req = await bounded(request.call(c.srf, 'sip:placeholder', { method: 'BYE', stackDialogId: dialogId }), 15000, 'the BYE to be sent')
  let status = 0
  req.on('response', (res) => (status = res?.status ?? -1))
  await until(() => status !== 0, 'the response to the BYE', 15000).catch((err: Error) => {
    const wire = target.recorder.frames.map((f) => `${f.conn} ${f.dir} ${f.payload.split('\r\n').slice(0, 2).join(' / ')}`)
    throw new Error(`${err.message}\n${wire.join('\n')}`)
  })
  t.equal(status, 200, 'the far end answered the BYE sent on the new connection')
  t.equal((await sipp.done).code, 0, 'sipp saw the call end')
  t.equal(double.dialogCount, 0, 'nothing left behind')
})
