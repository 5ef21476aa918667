import t from 'tap'
import dgram from 'node:dgram'
import { setTimeout as sleep } from 'node:timers/promises'
import { EarlyMediaScreen } from '../../engine/media/early-media-screen.js'
import { decodeG711, encodeG711 } from '../../engine/media/g711.js'
import { buildRtp } from '../../engine/media/rtp.js'
import { RtpSocket } from '../../engine/media/rtp-socket.js'
import { concat, silence, tone } from './signals.js'

async function sender(): Promise<dgram.Socket & { source: string }> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  return Object.assign(s, { source: `127.0.0.1:${s.address().port}` })
}

function packets(pcm: Int16Array, ssrc: number, law: 'mulaw' | 'alaw' = 'mulaw'): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i * 160 < pcm.length; i++) {
    const payload = encodeG711(pcm.subarray(i * 160, (i + 1) * 160), law)
    out.push(Buffer.from(buildRtp({ payloadType: law === 'mulaw' ? 0 : 8, sequence: 1000 + i, timestamp: i * 160, ssrc, payload })))
  }
  return out
}

/** Sends in bursts of 10 (loopback keeps order; the pauses keep the receive buffer from overflowing). */
async function send(s: dgram.Socket, port: number, pkts: Buffer[]): Promise<void> {
  for (let i = 0; i < pkts.length; i++) {
    await new Promise<void>((r, j) => s.send(pkts[i]!, port, '127.0.0.1', (e) => (e ? j(e) : r())))
    if (i % 10 === 9) await sleep(2)
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10)
  if (!cond()) throw new Error(`gave up waiting for ${what}`)
}

t.test('real UDP on loopback: calls told apart by source and by SSRC, frames to the early-media screen', async (t) => {
  const errors: Error[] = []
  const rx = new RtpSocket({ onError: (e) => errors.push(e) })
  const { port } = await rx.bind()
  t.teardown(() => rx.close())
  const [a, b, stray] = await Promise.all([sender(), sender(), sender()])
  t.teardown(() => [a, b, stray].forEach((s) => s.close()))

  // Call 1 (known by rtpengine's source address): a SIT "vacant number" in early media.
  const screen = new EarlyMediaScreen({ callId: 'call-1', number: '+8613800000000', startedAt: 5000 })
  const sit = concat(silence(200), tone([913.8], 274), tone([1370.6], 274), tone([1776.7], 380), silence(600))
  const call1 = rx.open({ source: a.source, onFrame: (f) => screen.push(f) })
  // Call 2 (known by SSRC): plain audio, checked frame by frame; its sink throws once.
  const got: Int16Array[] = []
  let thrown = false
  const call2 = rx.open({
    ssrc: 0xabcdef,
    onFrame: (f) => {
      if (!thrown) {
        thrown = true
        throw new Error('analyser bug')
      }
      got.push(f)
    },
  })
  const audio = tone([700], 1000)
  const p1 = packets(sit, 0x55)
  const p2 = packets(audio, 0xabcdef, 'alaw')
  await Promise.all([send(a, port, p1), send(b, port, p2), send(stray, port, packets(audio, 0x99))])
  await until(() => call1.stats.packets === p1.length && call2.stats.packets === p2.length && rx.unmatched >= p2.length, 'every datagram')

  t.equal(call1.stats.packets, p1.length)
  t.equal(rx.unmatched, p2.length, 'the stray stream (unknown source and SSRC) is counted and dropped')
  call1.close()
  call2.close()
  t.same(screen.events.map((e) => e.reason), ['sit-vacant'], 'the SIT came through the socket')
  t.equal(screen.events[0]?.callId, 'call-1')
  t.equal(errors.length, 1, 'the throwing sink is reported')
  t.match(errors[0]?.message, /analyser bug/)
  t.equal(got.length, 49, 'and the stream went on: every other frame delivered')
  t.equal(got[10]![3], encodeAndBack(audio.subarray(11 * 160, 12 * 160))[3])

  // Closed streams no longer match; their keys can be registered again by the next call.
  const before = rx.unmatched
  await send(a, port, p1.slice(0, 3))
  await until(() => rx.unmatched === before + 3, 'late packets counted')
  t.doesNotThrow(() => rx.open({ source: a.source, onFrame: () => {} }).close())
})

t.test('rtpengine advertising another address than it sends from: matched by port when only one call has it', async (t) => {
  const rx = new RtpSocket()
  const { port } = await rx.bind()
  t.teardown(() => rx.close())
  const [a, b] = await Promise.all([sender(), sender()])
  t.teardown(() => [a, b].forEach((s) => s.close()))
  const aPort = a.address().port
  // the SDP said 203.0.113.7 (the public address); packets come from 127.0.0.1, the same port
  const frames: Int16Array[] = []
  const call = rx.open({ source: `203.0.113.7:${aPort}`, onFrame: (f) => void frames.push(f) })
  const p = packets(tone([700], 400), 0x77)
  await send(a, port, p)
  await until(() => call.stats.packets === p.length, 'the call to get its packets by port')
  t.equal(rx.matchedByPort, p.length, 'counted as matched by port')
  t.equal(rx.unmatched, 0)
  t.equal(frames.length, p.length)

  // a second call on the same port of another engine: a packet from a third address is ambiguous, dropped
  const other = rx.open({ source: `198.51.100.9:${aPort}`, onFrame: () => {} })
  await send(a, port, p.slice(0, 3))
  await until(() => rx.unmatched === 3, 'the ambiguous packets to be dropped')
  t.equal(call.stats.packets, p.length, 'neither call took them')
  t.equal(other.stats.packets, 0)
  other.close()
  call.close()
  await send(b, port, p.slice(0, 2))
  await until(() => rx.unmatched === 5, 'packets of another port to stay unmatched')
})

t.test('registration errors are clear', async (t) => {
  const rx = new RtpSocket()
  await rx.bind()
  t.teardown(() => rx.close())
  t.throws(() => rx.open({ onFrame: () => {} }), /source address or an SSRC/)
  rx.open({ ssrc: 1, onFrame: () => {} })
  t.throws(() => rx.open({ ssrc: 1, onFrame: () => {} }), /SSRC 1 is already registered/)
})

function encodeAndBack(pcm: Int16Array): Int16Array {
  return decodeG711(encodeG711(pcm, 'alaw'), 'alaw')
}
