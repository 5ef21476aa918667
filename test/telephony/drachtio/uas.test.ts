/**
 * Requests from the network routed to drachtio-srf: an inbound call (e) and a digest-challenged REGISTER (f), sipp
 * as the caller / registering phone; each replays a capture and compares both wires with it.
 */
import { createHash } from 'node:crypto'
import type Srf from 'drachtio-srf'
import t from 'tap'
import { compareWithCapture, replay } from '../../doubles/drachtio/replay/replay.js'
import { APP_SDP, until, type SrfVerbs } from '../../doubles/drachtio/replay/target.js'

t.test('e-uas-inbound: inbound call, 180 then 200 with SDP, ACK and BYE from the caller', async (t) => {
  let ended!: () => void
  const endedP = new Promise<void>((resolve) => (ended = resolve))
  const r = await replay(
    { scenario: 'uac', uac: true },
    async () => {
      await endedP
    },
    {
      connect: {
        setup: (srf) =>
          srf.invite((req, res) => {
            res.send(180)
            srf
              .createUAS(req, res, { localSdp: APP_SDP, headers: { 'X-Scenario': 'e' } })
              .then((dlg) => dlg.on('destroy', () => ended()))
              .catch((err: unknown) => t.fail(`createUAS: ${String(err)}`))
          }),
      },
    },
  )
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'e-uas-inbound', r)
})

const REALM = 'example.com'
const NONCE = 'wire0123456789abcdef'
const PASSWORDS: Record<string, string> = { alice: 'alicepw' }

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex')
}

/** RFC 2617 digest check (qop=auth), enough for the app side of the scenario. */
function digestValid(req: Srf.SrfRequest): boolean {
  const auth = req.get('Authorization')
  if (!auth) return false
  const p: Record<string, string> = {}
  for (const m of auth.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]!] = m[2] ?? m[3] ?? ''
  const password = PASSWORDS[p.username ?? '']
  if (!password) return false
  const ha1 = md5(`${p.username}:${REALM}:${password}`)
  const ha2 = md5(`REGISTER:${p.uri}`)
  return p.response === md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`)
}

function registrar(srf: Srf & { register(fn: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void }): void {
  srf.register((req, res) => {
    if (!req.has('Authorization')) {
      res.send(401, {
        headers: { 'www-authenticate': `Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth"` },
      })
      return
    }
    if (!digestValid(req)) {
      res.send(403)
      return
    }
    res.send(200, { headers: { contact: `${req.get('Contact')};expires=3600`, expires: '3600' } })
  })
}

t.test('f-register-digest: REGISTER challenged by the app, retried with digest, 200', async (t) => {
  const r = await replay({ scenario: 'uac-register-digest.xml', uac: true }, async () => undefined, {
    connect: { setup: registrar },
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'f-register-digest', r)
})

t.test('register with a wrong password is refused 403 (issue 5 scenario; no capture)', async (t) => {
  const r = await replay({ scenario: 'uac-register-wrong-password.xml', uac: true }, async () => undefined, {
    connect: { setup: registrar },
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp saw the 403 it expected')
  const statuses = r.trace.filter((e) => e.dir === 'received').map((e) => e.text.split('\n')[0])
  t.strictSame(statuses, ['SIP/2.0 401 Unauthorized', 'SIP/2.0 403 Forbidden'])
})

function nokCount(frames: Array<{ payload: string }>): number {
  return frames.filter((f) => f.payload.includes('|NOK|')).length
}

t.test('h1-uas-cancel-after-180: the caller CANCELs after 180; the stack answers, the app is refused later', async (t) => {
  const r = await replay(
    { scenario: 'uac-invite-cancel-after-180.xml', uac: true },
    async ({ target }) => {
      await until(() => nokCount(target.recorder.frames) === 1, 'the NOK to the late 200')
    },
    {
      connect: {
        setup: (srf) =>
          srf.invite((req, res) => {
            res.send(180)
            req.on('cancel', () => res.send(200, { body: APP_SDP }))
          }),
      },
    },
  )
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'h1-uas-cancel-after-180', r)
})

t.test('h2-uas-quick-cancel: cancelled before the app answered anything', async (t) => {
  const r = await replay(
    { scenario: 'uac-invite-quick-cancel.xml', uac: true },
    async ({ target }) => {
      await until(() => nokCount(target.recorder.frames) === 2, 'the NOKs to the late 180 and 200')
    },
    {
      connect: {
        setup: (srf) =>
          srf.invite((req, res) => {
            req.on('cancel', () => {
              res.send(180)
              res.send(200, { body: APP_SDP })
            })
          }),
      },
    },
  )
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'h2-uas-quick-cancel', r)
})

t.test('h3-uas-reject-486: the app rejects; the ACK is absorbed by the server', async (t) => {
  const r = await replay({ scenario: 'uac-invite-rejected.xml', uac: true }, async () => undefined, {
    connect: { setup: (srf) => srf.invite((_req, res) => res.send(486, { headers: { 'X-Reason': 'busy-test' } })) },
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'h3-uas-reject-486', r)
  t.equal(r.target.double?.dialogCount ?? 0, 0, 'no dialog left behind')
})

t.test('i-uas-ack-timeout: 200 never ACKed: retransmitted on timer G, then BYE reported as unsolicited', async (t) => {
  // The double runs its timers 10x faster (T1 50 ms, T2 400 ms): the same schedule in 3.2 s instead of 32 s.
  // Against a real server this takes the real 32 s.
  let unsolicited = ''
  const r = await replay(
    { scenario: 'uac-invite-no-ack.xml', uac: true, limitSeconds: 60 },
    async ({ target }) => {
      await until(() => target.recorder.frames.some((f) => f.payload.includes('|unsolicited|')), 'the unsolicited BYE', 50000)
    },
    {
      t1Ms: 50,
      t2Ms: 400,
      limitMs: 55000,
      connect: {
        setup: (srf) =>
          srf.invite((req, res) => {
            srf
              .createUAS(req, res, { localSdp: APP_SDP })
              .then((dlg) => dlg.on('destroy', (bye: Srf.SrfRequest) => (unsolicited = bye.get('Reason'))))
              .catch((err: unknown) => t.fail(`createUAS: ${String(err)}`))
          }),
      },
    },
  )
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  t.equal(unsolicited, 'SIP;cause=200;text="ACK timeout"', 'the app saw the BYE with its reason')
  compareWithCapture(t, 'i-uas-ack-timeout', r)
})

const APP_SDP_2 = APP_SDP.replace('o=app 1001 1', 'o=app 1001 2').replace('m=audio 40000', 'm=audio 40002')

t.test('h5-uas-indialog: the caller re-INVITEs (the server sends 100 itself) and sends INFO, then BYE', async (t) => {
  let ended!: () => void
  const endedP = new Promise<void>((resolve) => (ended = resolve))
  const seen: string[] = []
  const r = await replay(
    { scenario: 'uac-call-with-indialog.xml', uac: true },
    async () => {
      await endedP
    },
    {
      connect: {
        setup: (srf) =>
          srf.invite((req, res) => {
            srf
              .createUAS(req, res, { localSdp: APP_SDP })
              .then((dlg) => {
                dlg.on('modify', (r: Srf.SrfRequest, s: Srf.SrfResponse) => {
                  seen.push(`modify ${r.method}`)
                  s.send(200, { body: APP_SDP_2 })
                })
                dlg.on('info', (r: Srf.SrfRequest, s: Srf.SrfResponse) => {
                  seen.push(`info ${r.get('Content-Type')}`)
                  s.send(200, { headers: { 'X-Got': 'info' } })
                })
                dlg.on('destroy', () => ended())
              })
              .catch((err: unknown) => t.fail(`createUAS: ${String(err)}`))
          }),
      },
    },
  )
  t.teardown(() => r.target.close())
  t.strictSame(seen, ['modify INVITE', 'info application/dtmf-relay'], 'the dialog saw the re-INVITE and the INFO')
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'h5-uas-indialog', r)
})

t.test('h4-misc-out-of-dialog: 481 to stray BYE/UPDATE and unknown To-tag, 503 without a route, REFER dropped', async (t) => {
  const r = await replay({ scenario: 'uac-misc-out-of-dialog.xml', uac: true }, async () => undefined, {
    connect: { setup: (srf) => srf.invite((_req, res) => res.send(500)) },
    beforeSipp: async ({ c, target }) => {
      ;(c.srf as unknown as SrfVerbs).options((_req, res) =>
        res.send(200, { headers: { allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS', 'X-App': 'wire' } }),
      )
      await until(() => target.recorder.frames.filter((f) => f.payload.endsWith('|OK')).length === 3, 'the routes')
    },
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'h4-misc-out-of-dialog', r)
})
