/**
 * CDR frames (server config `<cdrs>true</cdrs>`, apps that route cdr:*): l1 inbound answered call, l2 outbound call
 * rejected. Against a real server its config must enable CDRs for these to pass.
 */
import type Srf from 'drachtio-srf'
import t from 'tap'
import { compareWithCapture, replay } from '../../doubles/drachtio/replay/replay.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'

type CdrSrf = Srf & { on(event: string, fn: (...args: unknown[]) => void): Srf }

function listenCdrs(srf: Srf, into: string[]): void {
  const s = srf as CdrSrf
  s.on('cdr:attempt', (source, _time, msg) => into.push(`attempt ${String(source)} ${(msg as Srf.SipMessage).type}`))
  s.on('cdr:start', (source, _time, role) => into.push(`start ${String(source)} ${String(role)}`))
  s.on('cdr:stop', (source, _time, reason) => into.push(`stop ${String(source)} ${String(reason)}`))
}

t.test('l1-cdr-inbound: attempt, start (uas), stop (normal-release) for an answered inbound call', async (t) => {
  const cdrs: string[] = []
  const r = await replay(
    { scenario: 'uac', uac: true },
    async () => {
      await until(() => cdrs.length === 3, 'three CDRs')
    },
    {
      cdrs: true,
      beforeSipp: async ({ c, target }) => {
        listenCdrs(c.srf, cdrs)
        c.srf.invite((req, res) => {
          c.srf.createUAS(req, res, { localSdp: APP_SDP }).catch((err: unknown) => t.fail(String(err)))
        })
        await until(() => target.recorder.frames.filter((f) => f.payload.endsWith('|OK')).length === 10, 'the routes')
      },
    },
  )
  t.teardown(() => r.target.close())
  t.strictSame(cdrs, ['attempt network request', 'start application uas', 'stop network normal-release'])
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'l1-cdr-inbound', r)
})

t.test('l2-cdr-outbound-rejected: attempt (application) and stop (call-rejected) for a rejected outbound call', async (t) => {
  const cdrs: string[] = []
  const r = await replay(
    { scenario: 'uas-reject-486.xml' },
    async ({ c, uri, target }) => {
      await c.srf.createUAC(uri, { localSdp: APP_SDP }).catch(() => undefined)
      await until(() => cdrs.length === 2 && target.recorder.frames.some((f) => f.payload.includes('|NOK|')), 'the CDRs and the NOK')
    },
    {
      cdrs: true,
      beforeSipp: async ({ c, target }) => {
        listenCdrs(c.srf, cdrs)
        await until(() => target.recorder.frames.filter((f) => f.payload.endsWith('|OK')).length === 6, 'the routes')
      },
    },
  )
  t.teardown(() => r.target.close())
  t.strictSame(cdrs, ['attempt application request', 'stop network call-rejected'])
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'l2-cdr-outbound-rejected', r)
})
