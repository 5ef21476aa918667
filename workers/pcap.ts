/**
 * libpcap capture files (the classic format, not pcapng) down to their UDP datagrams. rtpengine's
 * `--recording-method=pcap` writes one such file per call: link type RAW (101, a bare IPv4/IPv6 header per packet;
 * `--recording-format=eth` puts a made-up Ethernet header in front instead), one record per RTP packet it received
 * from either party, source = that party's address, destination = rtpengine's port. Captures taken with tcpdump
 * (Ethernet, Linux cooked, loopback) read the same way, so a capture of a live call can be compressed too.
 *
 * Only what a recording needs is decoded: IPv4 (options skipped, fragments other than the first skipped) and IPv6
 * (extension headers skipped) carrying UDP. Everything else is counted, not thrown; a damaged file header or a
 * record running past the end of the file is an error that names the byte offset.
 */

export interface UdpDatagram {
  /** Capture time in microseconds since the epoch. */
  timeUs: number
  /** "ip:port" (IPv6 in brackets). */
  source: string
  destination: string
  payload: Uint8Array
}

export interface PcapContents {
  linkType: number
  datagrams: UdpDatagram[]
  /** Records that were not UDP over IP (ARP, TCP, ICMP, later fragments...). */
  skipped: number
  /** True when the last record was cut short (the recorder was killed mid-write): the datagrams before it are kept. */
  truncated: boolean
}

export const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW: 101, LINUX_SLL: 113, IPV4: 228, IPV6: 229 } as const

const MAGIC_US = 0xa1b2c3d4
const MAGIC_NS = 0xa1b23c4d
const PCAPNG = 0x0a0d0d0a

export function isPcap(buf: Uint8Array): boolean {
  if (buf.length < 4) return false
  const m = new DataView(buf.buffer, buf.byteOffset, 4)
  const be = m.getUint32(0, false)
  const le = m.getUint32(0, true)
  return be === MAGIC_US || le === MAGIC_US || be === MAGIC_NS || le === MAGIC_NS
}

export function parsePcap(buf: Uint8Array): PcapContents {
  if (buf.length < 24) throw new Error(`pcap: ${buf.length} bytes, shorter than the 24-byte file header`)
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const magicBe = dv.getUint32(0, false)
  if (magicBe === PCAPNG) throw new Error('pcap: this is a pcapng file; convert it with `editcap -F pcap` (rtpengine writes classic pcap)')
  let little: boolean
  let nanos: boolean
  if (magicBe === MAGIC_US || magicBe === MAGIC_NS) {
    little = false
    nanos = magicBe === MAGIC_NS
  } else {
    const le = dv.getUint32(0, true)
    if (le !== MAGIC_US && le !== MAGIC_NS) throw new Error(`pcap: bad magic 0x${magicBe.toString(16).padStart(8, '0')}`)
    little = true
    nanos = le === MAGIC_NS
  }
  const major = dv.getUint16(4, little)
  if (major !== 2) throw new Error(`pcap: version ${major}.${dv.getUint16(6, little)}, expected 2.x`)
  // The link type is the low 16 bits; the upper bits hold the FCS flags of some writers.
  const linkType = dv.getUint32(20, little) & 0xffff
  if (!(Object.values(LINKTYPE) as number[]).includes(linkType)) {
    throw new Error(`pcap: link type ${linkType} is not supported (raw IP, Ethernet, Linux cooked, loopback)`)
  }
  const out: PcapContents = { linkType, datagrams: [], skipped: 0, truncated: false }
  let o = 24
  while (o < buf.length) {
    if (o + 16 > buf.length) {
      out.truncated = true
      break
    }
    const sec = dv.getUint32(o, little)
    const frac = dv.getUint32(o + 4, little)
    const incl = dv.getUint32(o + 8, little)
    if (incl > 262144) throw new Error(`pcap: record at byte ${o} claims ${incl} bytes; the file is damaged`)
    if (o + 16 + incl > buf.length) {
      out.truncated = true
      break
    }
    const rec = buf.subarray(o + 16, o + 16 + incl)
    const timeUs = sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac)
    const d = udpOf(rec, linkType, little)
    if (d) out.datagrams.push({ timeUs, ...d })
    else out.skipped++
    o += 16 + incl
  }
  return out
}

type Udp = Omit<UdpDatagram, 'timeUs'>

function udpOf(rec: Uint8Array, linkType: number, fileLittle: boolean): Udp | undefined {
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength)
  switch (linkType) {
    case LINKTYPE.RAW:
      return ipOf(rec)
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return ipOf(rec)
    case LINKTYPE.NULL: {
      if (rec.length < 4) return undefined
      // The address family in the capturing host's byte order (that of the file).
      const family = dv.getUint32(0, fileLittle)
      return family === 2 || family === 24 || family === 28 || family === 30 ? ipOf(rec.subarray(4)) : undefined
    }
    case LINKTYPE.ETHERNET: {
      let o = 12
      let type = rec.length >= 14 ? dv.getUint16(o) : 0
      // 802.1Q / 802.1ad tags.
      while ((type === 0x8100 || type === 0x88a8) && rec.length >= o + 6) {
        o += 4
        type = dv.getUint16(o)
      }
      return type === 0x0800 || type === 0x86dd ? ipOf(rec.subarray(o + 2)) : undefined
    }
    case LINKTYPE.LINUX_SLL: {
      if (rec.length < 16) return undefined
      const type = dv.getUint16(14)
      return type === 0x0800 || type === 0x86dd ? ipOf(rec.subarray(16)) : undefined
    }
    default:
      return undefined
  }
}

function ipOf(p: Uint8Array): Udp | undefined {
  if (p.length < 1) return undefined
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength)
  const version = p[0]! >> 4
  if (version === 4) {
    const ihl = (p[0]! & 0x0f) * 4
    if (ihl < 20 || p.length < ihl + 8 || p[9] !== 17) return undefined
    // A later fragment has no UDP header; a first fragment's payload is incomplete. RTP is never fragmented in
    // practice, so both are skipped rather than reassembled.
    const flagsFrag = dv.getUint16(6)
    if ((flagsFrag & 0x1fff) !== 0 || (flagsFrag & 0x2000) !== 0) return undefined
    const total = Math.min(p.length, dv.getUint16(2) || p.length)
    const src = `${p[12]}.${p[13]}.${p[14]}.${p[15]}`
    const dst = `${p[16]}.${p[17]}.${p[18]}.${p[19]}`
    return udp(p.subarray(ihl, total), src, dst)
  }
  if (version === 6) {
    if (p.length < 40) return undefined
    let next = p[6]!
    let o = 40
    // Hop-by-hop, routing, destination options: skip; a fragment header means a fragment: skip the packet.
    while (next === 0 || next === 43 || next === 60) {
      if (p.length < o + 8) return undefined
      next = p[o]!
      o += (p[o + 1]! + 1) * 8
    }
    if (next !== 17) return undefined
    const end = Math.min(p.length, 40 + dv.getUint16(4))
    return udp(p.subarray(o, end), `[${ipv6(p.subarray(8, 24))}]`, `[${ipv6(p.subarray(24, 40))}]`)
  }
  return undefined
}

function udp(u: Uint8Array, src: string, dst: string): Udp | undefined {
  if (u.length < 8) return undefined
  const dv = new DataView(u.buffer, u.byteOffset, u.byteLength)
  const len = dv.getUint16(4)
  const end = len >= 8 ? Math.min(u.length, len) : u.length
  return { source: `${src}:${dv.getUint16(0)}`, destination: `${dst}:${dv.getUint16(2)}`, payload: u.subarray(8, end) }
}

function ipv6(b: Uint8Array): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16))
  return groups.join(':')
}

/** Writes a classic pcap (microsecond, little-endian, link type RAW) the way rtpengine does: tests and tools. */
export function writeRawPcap(datagrams: readonly UdpDatagram[]): Uint8Array {
  const parts: Uint8Array[] = []
  const head = new Uint8Array(24)
  const hv = new DataView(head.buffer)
  hv.setUint32(0, MAGIC_US, true)
  hv.setUint16(4, 2, true)
  hv.setUint16(6, 4, true)
  hv.setUint32(16, 65535, true)
  hv.setUint32(20, LINKTYPE.RAW, true)
  parts.push(head)
  for (const d of datagrams) {
    const [sip, sport] = splitV4(d.source)
    const [dip, dport] = splitV4(d.destination)
    const len = 20 + 8 + d.payload.length
    const rec = new Uint8Array(16 + len)
    const rv = new DataView(rec.buffer)
    rv.setUint32(0, Math.floor(d.timeUs / 1e6), true)
    rv.setUint32(4, d.timeUs % 1e6, true)
    rv.setUint32(8, len, true)
    rv.setUint32(12, len, true)
    rec[16] = 0x45
    rv.setUint16(18, len)
    rec[24] = 64
    rec[25] = 17
    rec.set(sip, 28)
    rec.set(dip, 32)
    rv.setUint16(36, sport)
    rv.setUint16(38, dport)
    rv.setUint16(40, 8 + d.payload.length)
    rec.set(d.payload, 44)
    parts.push(rec)
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function splitV4(addr: string): [Uint8Array, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(addr)
  if (!m) throw new Error(`writeRawPcap: ${addr} is not an IPv4 ip:port`)
  return [new Uint8Array([+m[1]!, +m[2]!, +m[3]!, +m[4]!]), +m[5]!]
}
