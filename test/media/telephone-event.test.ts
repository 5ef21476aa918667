/**
 * RFC 4733 DTMF from the real captures sipp ships (/usr/share/sip-tester/dtmf_2833_*.pcap, the packets sipp plays
 * for `play_pcap_audio`): every key is reported once, from the first End packet, whatever the retransmissions.
 */
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { DtmfCollector, parseTelephoneEvent } from '../../engine/media/telephone-event.js'

const DIR = '/usr/share/sip-tester'

/** The RTP packets of a classic pcap of Ethernet/IPv4/UDP frames. */
function rtpPackets(file: string): Uint8Array[] {
  const b = readFileSync(file)
  const out: Uint8Array[] = []
  for (let off = 24; off + 16 <= b.length; ) {
    const incl = b.readUInt32LE(off + 8)
    const frame = b.subarray(off + 16, off + 16 + incl)
    off += 16 + incl
    const ihl = (frame[14]! & 0x0f) * 4
    out.push(new Uint8Array(frame.subarray(14 + ihl + 8)))
  }
  return out
}

const keys: Record<string, string> = { '0': '0', '1': '1', '3': '3', '4': '4', '9': '9', star: '*', pound: '#' }
for (const [name, digit] of Object.entries(keys)) {
  const file = `${DIR}/dtmf_2833_${name}.pcap`
  t.test(`sipp's capture of key ${digit}: one digit, from its first End packet`, { skip: existsSync(file) ? false : 'sip-tester not installed' }, async (t) => {
    const packets = rtpPackets(file)
    t.ok(packets.length >= 4, `${packets.length} packets`)
    const collector = new DtmfCollector(101)
    const digits = packets.map((p) => collector.push(p)).filter((d) => d !== undefined)
    t.same(digits, [digit])
    const ends = packets.map((p) => parseTelephoneEvent(p, 101)).filter((e) => e?.end)
    t.ok(ends.length >= 2, 'the capture retransmits its End packet, reported once all the same')
    // the same capture again, a new event (a later timestamp): a second press is a second digit
    const again = packets.map((p) => {
      const q = new Uint8Array(p)
      new DataView(q.buffer).setUint32(4, new DataView(p.buffer, p.byteOffset).getUint32(4) + 8000)
      return collector.push(q)
    })
    t.same(again.filter((d) => d !== undefined), [digit], 'a second press is reported again')
  })
}

t.test('other payload types, short or malformed packets are not digits', async (t) => {
  const packet = rtpPackets(`${DIR}/dtmf_2833_1.pcap`).at(-1)!
  t.equal(parseTelephoneEvent(packet, 96), undefined, 'another payload type')
  t.equal(parseTelephoneEvent(packet.subarray(0, 14), 101), undefined, 'cut short')
  const bad = new Uint8Array(packet)
  bad[12] = 42
  t.equal(parseTelephoneEvent(bad, 101), undefined, 'an event code that is no key')
  const v1 = new Uint8Array(packet)
  v1[0] = 0x40
  t.equal(parseTelephoneEvent(v1, 101), undefined, 'not RTP version 2')
})
