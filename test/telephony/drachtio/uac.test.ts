/**
 * Outbound calls placed by drachtio-srf through the server (double, or real with DRACHTIO_ADDRESS), sipp answering as
 * the far end: each replays a capture in shared/research/drachtio-wire and compares both wires with it.
 */
import type Srf from 'drachtio-srf'
import t from 'tap'
import { compareWithCapture, replay } from '../../doubles/drachtio/replay/replay.js'
import { APP_SDP, until } from '../../doubles/drachtio/replay/target.js'

t.test('b-uac-app-bye: answered call, the app hangs up', async (t) => {
  const r = await replay({ scenario: 'uas' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP, headers: { 'X-Scenario': 'b' } })
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'b-uac-app-bye', r)
})

t.test('c-uac-remote-bye: answered call, the far end hangs up', async (t) => {
  const r = await replay({ scenario: 'uas-answer-then-bye.xml' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP })
    await new Promise<void>((resolve) => dlg.on('destroy', () => resolve()))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'c-uac-remote-bye', r)
})

for (const [name, xml, status] of [
  ['d1-uac-486', 'uas-reject-486.xml', 486],
  ['d2-uac-404', 'uas-reject-404.xml', 404],
] as const) {
  t.test(`${name}: rejected call, the server ACKs it, the app's ACK is refused`, async (t) => {
    const r = await replay({ scenario: xml }, async ({ c, uri, target }) => {
      const err = await c.srf.createUAC(uri, { localSdp: APP_SDP }).then(
        () => undefined,
        (e: unknown) => e as { status?: number },
      )
      t.equal(err?.status, status, `createUAC rejects with ${status}`)
      await until(() => target.recorder.frames.some((f) => f.payload.includes('|NOK|')), 'the NOK to the app ACK')
    })
    t.teardown(() => r.target.close())
    t.equal(r.sippCode, 0, 'sipp completed its scenario')
    compareWithCapture(t, name, r)
  })
}

t.test('d3-uac-183-then-200: early media with SDP, then answer; the app hangs up', async (t) => {
  const provisional: number[] = []
  const r = await replay({ scenario: 'uas-183-sdp-then-200.xml' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP }, { cbProvisional: (res) => provisional.push(res.status) })
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.strictSame(provisional, [183], 'the app saw the 183')
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'd3-uac-183-then-200', r)
})

t.test('d4-uac-cancel: ringing, the app CANCELs; 487 reaches the app, the 200 to CANCEL does not', async (t) => {
  const r = await replay({ scenario: 'uas-ring-then-cancelled.xml' }, async ({ c, uri, target }) => {
    let inviteReq: Srf.SrfRequest | undefined
    const callbacks = {
      cbRequest: (_err: unknown, req: Srf.SrfRequest) => (inviteReq = req),
      cbProvisional: (res: Srf.SrfResponse) => {
        if (res.status === 180) inviteReq?.cancel(() => undefined)
      },
    }
    // drachtio-srf calls cbRequest(err, req) at runtime although its typings say (req): issue 5 anchors §2.1.
    const err = await c.srf
      .createUAC(uri, { localSdp: APP_SDP }, callbacks as unknown as Parameters<Srf['createUAC']>[2])
      .then(() => undefined, (e: unknown) => e as { status?: number })
    t.equal(err?.status, 487, 'createUAC rejects with 487')
    await until(() => target.recorder.frames.some((f) => f.payload.includes('|NOK|')), 'the NOK to the app ACK')
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'd4-uac-cancel', r)
})

t.test('m-uac-200-retransmitted: the far end re-sends its 200; the server re-ACKs, the app is not told', async (t) => {
  const r = await replay({ scenario: 'uas-duplicate-200.xml' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP })
    const info = { method: 'INFO', headers: { 'Content-Type': 'text/plain' }, body: 'ping' }
    await dlg.request(info as unknown as Srf.SrfRequest)
    // pacing, not a measurement: give sipp time to re-send its 200 before the BYE
    await new Promise((r) => setTimeout(r, 1000))
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'm-uac-200-retransmitted', r)
})

const APP_SDP_2 = APP_SDP.replace('o=app 1001 1', 'o=app 1001 2').replace('m=audio 40000', 'm=audio 40002')

t.test('g-uac-reinvite-info: the app re-INVITEs (dlg.modify) and sends INFO in the dialog, then hangs up', async (t) => {
  const r = await replay({ scenario: 'uas-reinvite-info.xml' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP })
    const remote = await dlg.modify(APP_SDP_2)
    t.match(remote, /o=sipp 2001 2/, 'modify resolves with the new remote SDP')
    const info = {
      method: 'INFO',
      headers: { 'Content-Type': 'application/dtmf-relay', 'X-Info-Seq': '1' },
      body: 'Signal=5\r\nDuration=160\r\n',
    }
    const res = await dlg.request(info as unknown as Srf.SrfRequest)
    t.equal(res.status, 200, 'INFO answered 200')
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'g-uac-reinvite-info', r)
})

t.test('k-uac-app-headers: app From/Contact (localhost rewritten), To, Call-ID, custom headers; Via and Content-Length dropped', async (t) => {
  const r = await replay({ scenario: 'uas' }, async ({ c, uri }) => {
    const opts = {
      localSdp: APP_SDP,
      callingNumber: '15551234567',
      callingName: 'Alice',
      headers: {
        To: '<sip:bob@example.com>',
        'Call-ID': 'app-chosen-call-id-1',
        'x-lower-case-header': 'v1',
        'P-Asserted-Identity': '<sip:15551234567@localhost>',
        'User-Agent': 'wire-capture',
        Via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfake',
        'Content-Length': '999',
      },
    }
    const dlg = await c.srf.createUAC(uri, opts as Srf.CreateUACOptions)
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'k-uac-app-headers', r)
})

t.test('p-uac-outbound-proxy: the INVITE goes to the proxy, Request-URI kept, no Route header', async (t) => {
  const r = await replay({ scenario: 'uas' }, async ({ c, sipp }) => {
    const opts = { localSdp: APP_SDP, proxy: `sip:127.0.0.1:${sipp!.port}` }
    const dlg = await c.srf.createUAC('sip:service@example.com', opts)
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'p-uac-outbound-proxy', r)
})

t.test('n-uac-100rel-prack: reliable 183; drachtio-srf PRACKs through the server; then 200, ACK, BYE', async (t) => {
  const r = await replay({ scenario: 'uas-183-100rel.xml' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP, headers: { Supported: '100rel' } })
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'n-uac-100rel-prack', r)
})

t.test('g2-uac-reinvite-provisionals: a re-INVITE answered 100, 180, 200 loses its 200 (captured server bug)', async (t) => {
  let settled = false
  const r = await replay({ scenario: 'uas-reinvite-provisionals.xml' }, async ({ c, uri }) => {
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP })
    // never settles against the real server (nor the double, which reproduces the bug); the scenario ends when sipp
    // gives up waiting for the ACK of its 200
    dlg.modify(APP_SDP_2).then(
      () => (settled = true),
      () => (settled = true),
    )
  })
  t.teardown(() => r.target.close())
  t.equal(settled, false, 'dlg.modify() did not settle')
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  // the SIP side differs in how often sipp sent its 200 (once here, until killed in the capture): compare the admin side
  compareWithCapture(t, 'g2-uac-reinvite-provisionals', r, { sip: false })
  const afterReinvite = r.trace.slice(r.trace.findIndex((e, i) => i > 0 && e.text.startsWith('INVITE ')))
  t.notOk(afterReinvite.some((e) => e.dir === 'received' && e.text.startsWith('ACK ')), 'the re-INVITE 200 is never ACKed')
})

t.test('j-uac-tcp: like b over TCP: tcp meta with the peer address, transport params, To-header quirk', async (t) => {
  const r = await replay({ scenario: 'uas', tcp: true }, async ({ c, sipp }) => {
    const uri = `sip:service@127.0.0.1:${sipp!.port};transport=tcp`
    const dlg = await c.srf.createUAC(uri, { localSdp: APP_SDP, headers: { 'X-Scenario': 'j' } })
    await new Promise<void>((resolve, reject) => dlg.destroy(undefined, (err) => (err ? reject(err) : resolve())))
  })
  t.teardown(() => r.target.close())
  t.equal(r.sippCode, 0, 'sipp completed its scenario')
  compareWithCapture(t, 'j-uac-tcp', r)
})

for (const [password, outcome] of [
  ['s3cret', 'answered'],
  ['wrong', 'failed 403'],
] as const) {
  t.test(`trunk digest credentials (${password === 's3cret' ? 'right' : 'wrong'} password): drachtio-srf answers the 401 through the server (no capture)`, async (t) => {
    let result = ''
    const r = await replay({ scenario: 'uas-digest-challenge.xml' }, async ({ c, uri }) => {
      result = await c.srf.createUAC(uri, { localSdp: APP_SDP, auth: { username: 'trunk1', password } }).then(
        (dlg) => new Promise<string>((resolve) => dlg.destroy(undefined, () => resolve('answered'))),
        (e: { status?: number }) => `failed ${e.status}`,
      )
    })
    t.teardown(() => r.target.close())
    t.equal(result, outcome, 'sipp checked the digest of the retried INVITE')
    t.equal(r.sippCode, 0, 'sipp completed its scenario')
    const sent = r.trace.filter((e) => e.dir === 'sent').map((e) => e.text.split('\n')[0])
    t.equal(sent[0], 'SIP/2.0 401 Unauthorized')
    const invites = r.trace.filter((e) => e.dir === 'received' && e.text.startsWith('INVITE '))
    t.equal(invites.length, 2, 'the INVITE was retried once')
    t.match(invites[1]?.text ?? '', /^Authorization: Digest username="trunk1"/m, 'with credentials')
    if (r.target.double) {
      // a failed INVITE's dialog id lives until drachtio-srf's own ACK for it has been refused
      const double = r.target.double
      await until(() => double.dialogCount === 0, 'no dialog left behind')
      t.equal(double.dialogCount, 0, 'no dialog left behind')
    }
  })
}
