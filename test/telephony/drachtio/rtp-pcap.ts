/**
 * A libpcap file of one PCMU RTP stream, for sipp's `play_pcap_audio` (a carrier playing a recording): Ethernet link
 * type, little-endian, one IPv4/UDP/RTP packet of 20 ms per record, timestamps 20 ms apart (sipp paces by them).
 * sipp rewrites the addresses and ports when it sends, so those in the file are placeholders.
 */
import { writeFileSync } from 'node:fs'

const PACKET_BYTES = 160

export function writeRtpPcap(path: string, ulaw: Uint8Array, opts: { ssrc?: number } = {}): number {
  const packets = Math.ceil(ulaw.length / PACKET_BYTES)
  const global = Buffer.alloc(24)
  global.writeUInt32LE(0xa1b2c3d4, 0)
  global.writeUInt16LE(2, 4)
  global.writeUInt16LE(4, 6)
  global.writeUInt32LE(65535, 16) // snaplen
  global.writeUInt32LE(1, 20) // LINKTYPE_ETHERNET
  const records: Buffer[] = [global]
  const ssrc = opts.ssrc ?? 0x5eed0001
  for (let i = 0; i < packets; i++) {
    const payload = Buffer.alloc(PACKET_BYTES, 0xff)
    payload.set(ulaw.subarray(i * PACKET_BYTES, (i + 1) * PACKET_BYTES))
    const rtp = Buffer.alloc(12)
    rtp[0] = 0x80
    rtp[1] = i === 0 ? 0x80 : 0
    rtp.writeUInt16BE(i & 0xffff, 2)
    rtp.writeUInt32BE((i * PACKET_BYTES) >>> 0, 4)
    rtp.writeUInt32BE(ssrc >>> 0, 8)
    const udpLen = 8 + 12 + PACKET_BYTES
    const udp = Buffer.alloc(8)
    udp.writeUInt16BE(6000, 0)
    udp.writeUInt16BE(6000, 2)
    udp.writeUInt16BE(udpLen, 4)
    const ip = Buffer.alloc(20)
    ip[0] = 0x45
    ip.writeUInt16BE(20 + udpLen, 2)
    ip[8] = 64 // TTL
    ip[9] = 17 // UDP
    ip.set([127, 0, 0, 1], 12)
    ip.set([127, 0, 0, 1], 16)
    ip.writeUInt16BE(ipChecksum(ip), 10)
    const eth = Buffer.alloc(14)
    eth.writeUInt16BE(0x0800, 12)
    const frame = Buffer.concat([eth, ip, udp, rtp, payload])
    const rec = Buffer.alloc(16)
    const us = i * 20_000
    rec.writeUInt32LE(Math.floor(us / 1e6), 0)
    rec.writeUInt32LE(us % 1e6, 4)
    rec.writeUInt32LE(frame.length, 8)
    rec.writeUInt32LE(frame.length, 12)
    records.push(rec, frame)
  }
  writeFileSync(path, Buffer.concat(records))
  return packets
}

function ipChecksum(h: Buffer): number {
  let sum = 0
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}
