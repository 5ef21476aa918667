/**
 * RTP (RFC 3550) as rtpengine forks it to us: packets in, 20 ms frames of 16-bit audio out, in sequence order.
 * Pure: the UDP socket belongs to the telephony adapter, which hands each datagram to `RtpDepacketizer.push()`.
 *
 * Packets may arrive late, twice, or never: a small reorder window holds them; a packet older than what was already
 * played is dropped; a gap that the window cannot fill is played as silence (the analysers need the time line to
 * stay true more than they need the lost 20 ms). Anything that is not an RTP packet with a G.711 payload is
 * counted and skipped, never thrown.
 */
import { FrameAssembler } from './frames.js'
import { decodeG711, type G711Law } from './g711.js'

export interface RtpPacket {
  payloadType: number
  marker: boolean
  sequence: number
  timestamp: number
  ssrc: number
  payload: Uint8Array
}

/** Parses one datagram; undefined when it is not a valid RTP version 2 packet. */
export function parseRtp(d: Uint8Array): RtpPacket | undefined {
  if (d.length < 12 || d[0]! >> 6 !== 2) return undefined
  const padding = (d[0]! & 0x20) !== 0
  const extension = (d[0]! & 0x10) !== 0
  const csrcCount = d[0]! & 0x0f
  let offset = 12 + csrcCount * 4
  if (d.length < offset) return undefined
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength)
  if (extension) {
    if (d.length < offset + 4) return undefined
    offset += 4 + dv.getUint16(offset + 2) * 4
    if (d.length < offset) return undefined
  }
  let end = d.length
  if (padding) {
    const pad = d[d.length - 1]!
    if (pad === 0 || pad > end - offset) return undefined
    end -= pad
  }
  return {
    payloadType: d[1]! & 0x7f,
    marker: (d[1]! & 0x80) !== 0,
    sequence: dv.getUint16(2),
    timestamp: dv.getUint32(4),
    ssrc: dv.getUint32(8),
    payload: d.subarray(offset, end),
  }
}

/** Static payload types of RFC 3551; dynamic ones (96-127) are mapped by the SDP the adapter negotiated. */
export const STATIC_G711: Readonly<Record<number, G711Law>> = { 0: 'mulaw', 8: 'alaw' }

export interface RtpStats {
  packets: number
  invalid: number
  /** Not G.711, or a different SSRC than the stream locked on to. */
  ignored: number
  late: number
  duplicate: number
  /** Samples of silence played for packets that never came. */
  concealedSamples: number
}

export interface RtpDepacketizerOptions {
  /** Packets held to reorder; 3 × 20 ms by default. */
  window?: number
  payloadTypes?: Record<number, G711Law>
}

/** A gap longer than this (1 s of 20 ms packets) is a sequence jump, not loss. */
const MAX_CONCEALED_PACKETS = 50

const seqDiff = (a: number, b: number) => ((a - b + 0x18000) & 0xffff) - 0x8000

export class RtpDepacketizer {
  private readonly frames = new FrameAssembler()
  private readonly window: number
  private readonly types: Record<number, G711Law>
  private readonly held = new Map<number, RtpPacket>()
  private ssrc: number | undefined
  /** Next sequence number to play. */
  private next: number | undefined
  private lastSamples = 160
  readonly stats: RtpStats = { packets: 0, invalid: 0, ignored: 0, late: 0, duplicate: 0, concealedSamples: 0 }

  constructor(opts: RtpDepacketizerOptions = {}) {
    this.window = opts.window ?? 3
    this.types = { ...STATIC_G711, ...opts.payloadTypes }
  }

  /** One datagram in; the whole 20 ms frames it completes out. */
  push(datagram: Uint8Array): Int16Array[] {
    this.stats.packets++
    const p = parseRtp(datagram)
    if (!p) {
      this.stats.invalid++
      return []
    }
    if (this.types[p.payloadType] === undefined || (this.ssrc !== undefined && p.ssrc !== this.ssrc)) {
      this.stats.ignored++
      return []
    }
    this.ssrc ??= p.ssrc
    this.next ??= p.sequence
    const d = seqDiff(p.sequence, this.next)
    if (d < 0) {
      this.stats.late++
      return []
    }
    if (this.held.has(p.sequence)) {
      this.stats.duplicate++
      return []
    }
    this.held.set(p.sequence, p)
    return this.drain(false)
  }

  /** End of stream: play what is held, gaps as silence. */
  flush(): Int16Array[] {
    return this.drain(true)
  }

  private drain(all: boolean): Int16Array[] {
    const out: Int16Array[] = []
    while (this.held.size > 0 && this.next !== undefined) {
      const p = this.held.get(this.next)
      if (p) {
        this.held.delete(this.next)
        const law = this.types[p.payloadType]!
        this.lastSamples = p.payload.length || this.lastSamples
        out.push(...this.frames.push(decodeG711(p.payload, law)))
      } else if (all || this.held.size > this.window) {
        const ahead = Math.min(...[...this.held.keys()].map((k) => seqDiff(k, this.next!)))
        if (ahead > MAX_CONCEALED_PACKETS) {
          // A jump (the far end restarted its sequence): resynchronise rather than play seconds of silence.
          this.next = (this.next + ahead) & 0xffff
          continue
        }
        // The packet is lost: its time still passes.
        this.stats.concealedSamples += this.lastSamples
        out.push(...this.frames.push(new Int16Array(this.lastSamples)))
      } else {
        break
      }
      this.next = (this.next + 1) & 0xffff
    }
    return out
  }
}

/** Builds an RTP packet (tests, the simulator's media). */
export function buildRtp(p: Omit<RtpPacket, 'marker'> & { marker?: boolean }): Uint8Array {
  const d = new Uint8Array(12 + p.payload.length)
  const dv = new DataView(d.buffer)
  d[0] = 0x80
  d[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f)
  dv.setUint16(2, p.sequence & 0xffff)
  dv.setUint32(4, p.timestamp >>> 0)
  dv.setUint32(8, p.ssrc >>> 0)
  d.set(p.payload, 12)
  return d
}
