/**
 * Ogg Opus files (RFC 7845) written and read without a native library: an Ogg page writer with its CRC, the
 * OpusHead and OpusTags headers, and a reader that returns the packets so a written file can be verified by
 * decoding it before the original recording is deleted.
 */

const CRC_TABLE = new Uint32Array(256)
for (let i = 0; i < 256; i++) {
  let r = i << 24
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
  CRC_TABLE[i] = r >>> 0
}

function oggCrc(data: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0
  return crc
}

/** Opus always counts granule positions at 48 kHz, whatever the input rate. */
export const OPUS_GRANULE_RATE = 48000

export class OggOpusWriter {
  private readonly chunks: Uint8Array[] = []
  private seq = 0
  private granule = 0n
  private pending: Uint8Array[] = []
  private pendingGranule = 0n

  constructor(
    private readonly channels: number,
    private readonly inputRate: number,
    private readonly preSkip = 312,
    private readonly serial = 0x43414443, // "CADC"
  ) {
    const head = new Uint8Array(19)
    const dv = new DataView(head.buffer)
    head.set(new TextEncoder().encode('OpusHead'), 0)
    head[8] = 1
    head[9] = channels
    dv.setUint16(10, preSkip, true)
    dv.setUint32(12, inputRate, true)
    dv.setInt16(16, 0, true)
    head[18] = 0
    this.page([head], 0n, 0x02)
    const vendor = new TextEncoder().encode('cadence')
    const tags = new Uint8Array(8 + 4 + vendor.length + 4)
    const tv = new DataView(tags.buffer)
    tags.set(new TextEncoder().encode('OpusTags'), 0)
    tv.setUint32(8, vendor.length, true)
    tags.set(vendor, 12)
    tv.setUint32(12 + vendor.length, 0, true)
    this.page([tags], 0n, 0)
  }

  /** One Opus packet of `samples48k` samples (at 48 kHz: a 20 ms frame is 960). */
  addPacket(packet: Uint8Array, samples48k: number): void {
    this.granule += BigInt(samples48k)
    this.pending.push(packet)
    this.pendingGranule = this.granule
    // About one second of audio per page keeps the overhead low and seeking possible.
    if (this.pending.length >= 50) this.flushPage(0)
  }

  finish(): Uint8Array {
    this.flushPage(0x04)
    const total = this.chunks.reduce((n, c) => n + c.length, 0)
    const out = new Uint8Array(total)
    let o = 0
    for (const c of this.chunks) {
      out.set(c, o)
      o += c.length
    }
    return out
  }

  private flushPage(flags: number): void {
    if (this.pending.length === 0 && flags !== 0x04) return
    this.page(this.pending, this.pendingGranule + BigInt(this.preSkip), flags)
    this.pending = []
  }

  private page(packets: Uint8Array[], granule: bigint, flags: number): void {
    const lacing: number[] = []
    for (const p of packets) {
      let n = p.length
      while (n >= 255) {
        lacing.push(255)
        n -= 255
      }
      lacing.push(n)
    }
    if (lacing.length > 255) throw new Error('Ogg page overflow: too many packets on one page')
    const bodyLen = packets.reduce((n, p) => n + p.length, 0)
    const page = new Uint8Array(27 + lacing.length + bodyLen)
    const dv = new DataView(page.buffer)
    page.set([0x4f, 0x67, 0x67, 0x53], 0)
    page[4] = 0
    page[5] = flags
    dv.setBigUint64(6, granule, true)
    dv.setUint32(14, this.serial, true)
    dv.setUint32(18, this.seq++, true)
    page[26] = lacing.length
    page.set(lacing, 27)
    let o = 27 + lacing.length
    for (const p of packets) {
      page.set(p, o)
      o += p.length
    }
    dv.setUint32(22, oggCrc(page), true)
    this.chunks.push(page)
  }
}

export interface OggOpusContents {
  channels: number
  inputRate: number
  preSkip: number
  packets: Uint8Array[]
  /** Granule position of the last page (48 kHz samples, pre-skip included). */
  lastGranule: bigint
}

/** Parses an Ogg Opus file, checking every page's CRC; throws with the page number on damage. */
export function readOggOpus(file: Uint8Array): OggOpusContents {
  const packets: Uint8Array[] = []
  let o = 0
  let pageNo = 0
  let partial: Uint8Array[] = []
  let lastGranule = 0n
  while (o < file.length) {
    if (file.length - o < 27 || file[o] !== 0x4f || file[o + 1] !== 0x67 || file[o + 2] !== 0x67 || file[o + 3] !== 0x53) {
      throw new Error(`Ogg page ${pageNo}: no capture pattern at byte ${o}`)
    }
    const dv = new DataView(file.buffer, file.byteOffset + o)
    const nseg = file[o + 26]!
    const lacing = file.subarray(o + 27, o + 27 + nseg)
    const bodyLen = lacing.reduce((n, l) => n + l, 0)
    const end = o + 27 + nseg + bodyLen
    if (end > file.length) throw new Error(`Ogg page ${pageNo}: truncated`)
    const page = file.slice(o, end)
    const want = dv.getUint32(22, true)
    page.fill(0, 22, 26)
    if (oggCrc(page) !== want) throw new Error(`Ogg page ${pageNo}: CRC mismatch`)
    lastGranule = dv.getBigUint64(6, true)
    let b = o + 27 + nseg
    for (const l of lacing) {
      partial.push(file.subarray(b, b + l))
      b += l
      if (l < 255) {
        const total = partial.reduce((n, p) => n + p.length, 0)
        const pkt = new Uint8Array(total)
        let q = 0
        for (const p of partial) {
          pkt.set(p, q)
          q += p.length
        }
        packets.push(pkt)
        partial = []
      }
    }
    o = end
    pageNo++
  }
  const head = packets[0]
  if (!head || new TextDecoder().decode(head.subarray(0, 8)) !== 'OpusHead') throw new Error('not an Ogg Opus file: no OpusHead')
  const hv = new DataView(head.buffer, head.byteOffset)
  return {
    channels: head[9]!,
    preSkip: hv.getUint16(10, true),
    inputRate: hv.getUint32(12, true),
    packets: packets.slice(2),
    lastGranule,
  }
}
