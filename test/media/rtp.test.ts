import t from 'tap'
import fc from 'fast-check'
import { buildRtp, parseRtp, RtpDepacketizer } from '../../engine/media/rtp.js'
import { encodeG711 } from '../../engine/media/g711.js'
import { tone } from './signals.js'

const audio = tone([1000], 1000, 8000) // 50 packets of 160 samples
const packets = Array.from({ length: 50 }, (_, i) =>
  buildRtp({ payloadType: 0, sequence: (65530 + i) & 0xffff, timestamp: i * 160, ssrc: 42, payload: encodeG711(audio.subarray(i * 160, (i + 1) * 160), 'mulaw') }),
)

function play(order: Uint8Array[]): { frames: Int16Array[]; d: RtpDepacketizer } {
  const d = new RtpDepacketizer()
  const frames = [...order.flatMap((p) => d.push(p)), ...d.flush()]
  return { frames, d }
}

t.test('parses header fields, CSRCs, extension and padding', async (t) => {
  const p = parseRtp(packets[3]!)!
  t.match(p, { payloadType: 0, sequence: 65533, timestamp: 480, ssrc: 42 })
  t.equal(p.payload.length, 160)
  const d = new Uint8Array([0xb1, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 9, 9, 0xbe, 0xde, 0, 1, 7, 7, 7, 7, 0xd5, 0xd5, 0, 0, 3])
  const q = parseRtp(d)!
  t.equal(q.payloadType, 8)
  t.same([...q.payload], [0xd5, 0xd5], 'CSRC, extension and padding stripped')
  t.equal(parseRtp(new Uint8Array([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined, 'version 1 refused')
})

t.test('in-order packets give back every frame, across the sequence wrap', async (t) => {
  const { frames } = play(packets)
  t.equal(frames.length, 50)
})

t.test('reordered and duplicated packets are put right; a lost one becomes 20 ms of silence', async (t) => {
  const shuffled = [...packets]
  ;[shuffled[10], shuffled[12]] = [shuffled[12]!, shuffled[10]!]
  shuffled.splice(20, 0, packets[19]!)
  const { frames, d } = play(shuffled)
  t.equal(frames.length, 50)
  t.equal(d.stats.duplicate + d.stats.late, 1, 'the repeat is dropped (already played, so late)')
  const ordered = play(packets).frames
  t.same(frames.map((f) => f[5]), ordered.map((f) => f[5]), 'same audio in the same order')

  const lossy = packets.filter((_, i) => i !== 30)
  const l = play(lossy)
  t.equal(l.frames.length, 50, 'time line kept')
  t.equal(l.d.stats.concealedSamples, 160)
  t.ok(l.frames[30]!.every((s) => s === 0))
})

t.test('other payload types and streams are ignored, garbage is counted, nothing throws', async (t) => {
  const d = new RtpDepacketizer()
  t.same(d.push(buildRtp({ payloadType: 18, sequence: 1, timestamp: 0, ssrc: 42, payload: new Uint8Array(20) })), [])
  d.push(packets[0]!)
  d.push(buildRtp({ payloadType: 0, sequence: 2, timestamp: 0, ssrc: 99, payload: new Uint8Array(160) }))
  t.equal(d.stats.ignored, 2)
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 40 }), (dgrams) => {
      const r = new RtpDepacketizer()
      for (const g of dgrams) r.push(g)
      r.flush()
      return r.stats.packets === dgrams.length
    }),
  )
})
