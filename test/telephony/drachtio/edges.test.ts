/**
 * a2-raw-edges: raw admin-socket probes replayed byte for byte (wrong secret, commands before authenticate, tags, an
 * unknown type, split and coalesced frames, bad prefixes, sip frames with unknown ids), compared per connection with
 * the capture, including which connections the server closes.
 */
import net from 'node:net'
import t from 'tap'
import { encodeFrame } from '../../doubles/drachtio/framing.js'
import { maskRun, readAdminTranscript } from '../../doubles/drachtio/replay/transcript.js'
import { startTarget, until, type Target } from '../../doubles/drachtio/replay/target.js'

const CAPTURE = 'a2-raw-edges'

async function sipPortOf(target: Target): Promise<number> {
  if (target.double) return target.double.sipPort
  const s = net.connect(target.admin.port, target.admin.host)
  const reply = await new Promise<string>((resolve) => {
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString()
      if (buf.includes('|OK|')) resolve(buf)
    })
    s.write(encodeFrame(`x|authenticate|${target.secret}|`))
  })
  s.destroy()
  const m = /udp\/[^:]+:(\d+)/.exec(reply)
  if (!m) throw new Error(`no udp transport in ${reply}`)
  return Number(m[1])
}

/** What the probe app wrote on connection n (bytes), rebuilt from the capture. */
function probeWrites(n: number, secret: string, sipPort: number): Buffer[] {
  const fix = (p: string): string => p.replace('|cymru|', `|${secret}|`).replace('127.0.0.1:5070', `127.0.0.1:${sipPort}`)
  const frames = readAdminTranscript(CAPTURE, n).filter((f) => f.dir === 'APP=>SRV')
  const all = Buffer.concat(frames.map((f) => encodeFrame(fix(f.payload))))
  switch (n) {
    case 4: // the prefix arrives one byte, then nine more, then the rest
      return [all.subarray(0, 1), all.subarray(1, 10), all.subarray(10)]
    case 6:
      return [Buffer.from('abc#m-10|ping')]
    case 7: // six prefix digits
      return [Buffer.from('000041#m-11|ping')]
    default:
      return [all]
  }
}

const CLOSED_BY_SERVER = new Set([1, 3, 6, 7, 8])

t.test('a2-raw-edges: probes get the captured replies, and the same connections are dropped', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const sipPort = await sipPortOf(target)
  for (let n = 1; n <= 9; n++) {
    const captured = readAdminTranscript(CAPTURE, n)
    const expected = captured.filter((f) => f.dir === 'SRV=>APP')
    const sock = net.connect(target.recorder.port, '127.0.0.1')
    let ended = false
    sock.on('end', () => (ended = true))
    sock.on('error', () => undefined)
    sock.resume() // 'end' is only emitted once the stream is read
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()))
    for (const chunk of probeWrites(n, target.secret, sipPort)) {
      sock.write(chunk)
      await new Promise((r) => setTimeout(r, 20)) // separate TCP segments for the split case
    }
    const mine = (): number => target.recorder.frames.filter((f) => f.conn === n && f.dir === 'SRV=>APP').length
    await until(() => mine() >= expected.length && (!CLOSED_BY_SERVER.has(n) || ended), `conn${n} replies`)
    t.equal(ended, CLOSED_BY_SERVER.has(n), `conn${n}: ${CLOSED_BY_SERVER.has(n) ? 'closed' : 'kept open'} by the server`)
    sock.destroy()
    const actual = maskRun(target.recorder.frames.filter((f) => f.conn === n)).srv
    t.strictSame(actual, maskRun(captured).srv, `conn${n}: server replies`)
  }
})
