import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeG711, encodeG711 } from '../../engine/media/g711.js'
import { buildRtp } from '../../engine/media/rtp.js'
import compressRecording, { decodedLength } from '../../workers/compress-recording.js'
import { LINKTYPE, parsePcap, writeRawPcap, type UdpDatagram } from '../../workers/pcap.js'
import { readRtpRecording } from '../../workers/rtp-recording.js'
import { tone } from '../media/signals.js'
import { driveRecordedCall, startRtpengine, type PartyMedia } from './rtpengine.js'

const dir = mkdtempSync(join(tmpdir(), 'cadence-pcap-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function payloads(freq: number, packets: number, law: 'mulaw' | 'alaw'): Uint8Array[] {
  const a = tone([freq], packets * 20)
  return Array.from({ length: packets }, (_, i) => encodeG711(a.subarray(i * 160, (i + 1) * 160), law))
}

t.test('a call recorded by a real rtpengine: two parties on their channels, loss as silence, in step', async (t) => {
  const rtpe = await startRtpengine()
  t.teardown(() => rtpe.stop())
  // Caller: 3 s of 440 Hz in PCMU, packets 30-34 lost. Callee: silent for 1 s, then 2 s of 1 kHz in PCMA.
  const callerSent = payloads(440, 150, 'mulaw')
  const caller: PartyMedia = { payloadType: 0, ssrc: 0x1111, payloads: callerSent.map((p, i) => (i >= 30 && i < 35 ? undefined : p)) }
  const calleeSent = payloads(1000, 150, 'alaw')
  const callee: PartyMedia = { payloadType: 8, ssrc: 0x2222, payloads: calleeSent.map((p, i) => (i < 50 ? undefined : p)) }
  const call = await driveRecordedCall(rtpe, caller, callee)

  const cap = parsePcap(new Uint8Array(readFileSync(call.pcap)))
  t.equal(cap.linkType, LINKTYPE.RAW, 'rtpengine writes raw IP records')
  t.equal(cap.truncated, false)
  t.equal(cap.datagrams.length, 145 + 100, 'every packet rtpengine received, from both sides')

  const rec = readRtpRecording(cap.datagrams)
  t.same(rec.parties.map((p) => p.source), [call.callerSource, call.calleeSource], 'left = who spoke first')
  t.same(rec.parties.map((p) => p.ssrcs), [[0x1111], [0x2222]])
  const { samples, channels } = rec.audio
  t.equal(channels, 2)
  const len = samples.length / 2
  t.ok(len >= 150 * 160 && len < 150 * 160 + 8 * 160, `3 s on the time line (${len} samples)`)
  const left = Int16Array.from({ length: len }, (_, i) => samples[2 * i]!)
  const right = Int16Array.from({ length: len }, (_, i) => samples[2 * i + 1]!)
  t.same([...left.subarray(0, 30 * 160)], [...decodeG711(new Uint8Array(Buffer.concat(callerSent.slice(0, 30))), 'mulaw')], 'caller audio sample-exact')
  t.ok(left.subarray(30 * 160, 35 * 160).every((s) => s === 0), 'the 5 lost packets are 100 ms of silence')
  t.same([...left.subarray(35 * 160, 36 * 160)], [...decodeG711(callerSent[35]!, 'mulaw')], 'and the audio after them is in its place')
  t.equal(rec.parties[0]!.missingSamples, 5 * 160 + (len - 150 * 160))
  const firstCallee = right.findIndex((s) => s !== 0)
  t.ok(Math.abs(firstCallee - 50 * 160) <= 3 * 160, `callee starts 1 s in on the shared time line (${firstCallee / 8} ms)`)
  t.same([...right.subarray(firstCallee, firstCallee + 160)].slice(0, 20), [...decodeG711(calleeSent[50]!, 'alaw')].slice(0, 20))

  const out = join(dir, 'rtpe.opus')
  const r = await compressRecording({ input: call.pcap, output: out, deleteOriginal: true, firstSource: call.calleeSource })
  t.equal(r.channels, 2)
  t.equal(r.durationMs, (len / 8000) * 1000)
  t.same(r.parties?.map((p) => p.source), [call.calleeSource, call.callerSource], 'firstSource puts the callee on the left')
  t.equal(r.originalDeleted, true)
  t.notOk(existsSync(call.pcap))
  const back = decodedLength(new Uint8Array(readFileSync(out))).samplesPerChannel
  t.ok(back >= len && back - len < 160, `the Opus file decodes to the whole call, the last 20 ms padded (${back} for ${len})`)
})

const A = '10.0.0.1:4000'
const B = '10.0.0.2:5000'
const RTPE_A = '10.0.0.9:30000'
const RTPE_B = '10.0.0.9:30002'
const pkt = (seq: number, ts: number, ssrc: number, payload: Uint8Array, pt = 0) => buildRtp({ payloadType: pt, sequence: seq, timestamp: ts, ssrc, payload })
const at = (ms: number) => 1_700_000_000_000_000 + ms * 1000

t.test('reordering, duplicates, RTCP, DTMF, timestamp wrap, SSRC change and a moved port', async (t) => {
  const a = payloads(500, 20, 'mulaw')
  const d: UdpDatagram[] = []
  for (let i = 0; i < 20; i++) {
    const ts = (0xffffff00 + i * 160) >>> 0 // wraps after the first packet
    d.push({ timeUs: at(i * 20 + (i === 5 ? 45 : 0)), source: A, destination: RTPE_A, payload: pkt(i, ts, 7, a[i]!) }) // 5 arrives after 6 and 7
  }
  d.push({ timeUs: at(100), source: A, destination: RTPE_A, payload: pkt(3, (0xffffff00 + 3 * 160) >>> 0, 7, a[3]!) }) // duplicate
  d.push({ timeUs: at(50), source: A, destination: RTPE_A, payload: new Uint8Array([0x81, 200, 0, 6, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) })
  d.push({ timeUs: at(60), source: A, destination: RTPE_A, payload: pkt(100, 5, 7, new Uint8Array([1, 0, 0, 160]), 101) })
  // B: 10 packets, then a new SSRC with a new timestamp base (a re-INVITE), then it moves port (same rtpengine port).
  const b = payloads(800, 30, 'alaw')
  for (let i = 0; i < 10; i++) d.push({ timeUs: at(i * 20), source: B, destination: RTPE_B, payload: pkt(i, i * 160, 9, b[i]!, 8) })
  for (let i = 10; i < 20; i++) d.push({ timeUs: at(i * 20), source: B, destination: RTPE_B, payload: pkt(i, 999_999 + i * 160, 10, b[i]!, 8) })
  for (let i = 20; i < 30; i++) d.push({ timeUs: at(i * 20), source: '10.0.0.2:5002', destination: RTPE_B, payload: pkt(i, 5_000_000 + i * 160, 10, b[i]!, 8) })

  const rec = readRtpRecording(parsePcap(writeRawPcap(d)).datagrams)
  t.equal(rec.parties.length, 2, 'the moved port stays the same party')
  t.same(rec.parties[1]!.ssrcs, [9, 10])
  t.equal(rec.ignored, 2, 'RTCP and DTMF left out')
  const len = rec.audio.samples.length / 2
  t.equal(len, 30 * 160)
  const ch = (c: number) => Int16Array.from({ length: len }, (_, i) => rec.audio.samples[2 * i + c]!)
  t.same([...ch(0).subarray(0, 20 * 160)], [...decodeG711(new Uint8Array(Buffer.concat(a)), 'mulaw')], 'A in order across the wrap, despite reordering and a duplicate')
  t.same([...ch(1)], [...decodeG711(new Uint8Array(Buffer.concat(b)), 'alaw')], 'B continuous across the SSRC change and the port move')
  t.equal(rec.parties[0]!.missingSamples, 10 * 160, 'A is silent for the last 200 ms')
})

t.test('file variants: big-endian, nanoseconds, Ethernet with VLAN, Linux cooked; damaged files', async (t) => {
  const payload = pkt(1, 0, 1, new Uint8Array(160).fill(0xff))
  const raw = writeRawPcap([{ timeUs: at(0), source: A, destination: B, payload }])
  const ip = raw.subarray(40)
  const file = (opts: { be?: boolean; ns?: boolean; link: number; prefix: Uint8Array }) => {
    const rec = new Uint8Array(24 + 16 + opts.prefix.length + ip.length)
    const dv = new DataView(rec.buffer)
    const le = !opts.be
    dv.setUint32(0, opts.ns ? 0xa1b23c4d : 0xa1b2c3d4, le)
    dv.setUint16(4, 2, le)
    dv.setUint16(6, 4, le)
    dv.setUint32(16, 65535, le)
    dv.setUint32(20, opts.link, le)
    dv.setUint32(24, 1_700_000_000, le)
    dv.setUint32(28, opts.ns ? 123_456_789 : 123_456, le)
    dv.setUint32(32, opts.prefix.length + ip.length, le)
    dv.setUint32(36, opts.prefix.length + ip.length, le)
    rec.set(opts.prefix, 40)
    rec.set(ip, 40 + opts.prefix.length)
    return rec
  }
  const eth = new Uint8Array([...new Array(12).fill(0), 0x81, 0x00, 0, 5, 0x08, 0x00])
  const sll = new Uint8Array([...new Array(14).fill(0), 0x08, 0x00])
  for (const [name, f] of [
    ['big-endian', file({ be: true, link: 101, prefix: new Uint8Array() })],
    ['nanosecond', file({ ns: true, link: 101, prefix: new Uint8Array() })],
    ['Ethernet + 802.1Q', file({ link: 1, prefix: eth })],
    ['Linux cooked', file({ link: 113, prefix: sll })],
  ] as const) {
    const c = parsePcap(f)
    t.equal(c.datagrams.length, 1, name)
    t.match(c.datagrams[0], { timeUs: 1_700_000_000_123_456, source: A, destination: B }, name)
    t.equal(c.datagrams[0]!.payload.length, payload.length, name)
  }
  const cut = parsePcap(raw.subarray(0, raw.length - 10))
  t.equal(cut.truncated, true, 'a record cut short is reported, not thrown')
  t.throws(() => parsePcap(new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, ...new Array(30).fill(0)])), /pcapng/)
  t.throws(() => parsePcap(new Uint8Array(30)), /bad magic/)
  t.throws(() => parsePcap(file({ link: 147, prefix: new Uint8Array() })), /link type 147/)
  t.throws(() => readRtpRecording([]), /no G\.711 RTP/)
  const bad = join(dir, 'bad.pcap')
  writeFileSync(bad, raw.subarray(0, 24))
  await t.rejects(compressRecording({ input: bad, output: join(dir, 'bad.opus'), deleteOriginal: true }), /no G\.711 RTP/)
  t.ok(existsSync(bad), 'the original stays when compression fails')
})
