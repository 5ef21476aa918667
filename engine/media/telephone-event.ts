/**
 * DTMF digits from RFC 4733 telephone-event packets (the way carriers and phones send keypresses on SIP): each
 * event is a series of packets sharing one RTP timestamp (the event's start), the last three flagged End. A digit is
 * reported once, at the first End packet of its timestamp; the retransmitted End packets and the packets before it
 * are not reported again. Pure: packets in, digits out.
 */

/** Event codes 0-15 (RFC 4733 §3.2): 0-9, *, #, A-D. */
const DIGITS = '0123456789*#ABCD'

export interface TelephoneEvent {
  digit: string
  /** Whether this packet ends the event (E bit). */
  end: boolean
  /** Event duration so far, in timestamp units (8 kHz: 1/8 ms). */
  duration: number
  /** The RTP timestamp: the event's start, shared by all its packets. */
  timestamp: number
}

/** Parses one RTP packet of the telephone-event payload type; undefined for anything else or a malformed packet. */
export function parseTelephoneEvent(packet: Uint8Array, payloadType: number): TelephoneEvent | undefined {
  if (packet.length < 16 || packet[0]! >> 6 !== 2) return undefined
  if ((packet[1]! & 0x7f) !== payloadType) return undefined
  const csrcs = packet[0]! & 0x0f
  let offset = 12 + 4 * csrcs
  if (packet[0]! & 0x10) {
    // a header extension: its length (in 32-bit words) follows its 16-bit profile id
    if (packet.length < offset + 4) return undefined
    offset += 4 + 4 * ((packet[offset + 2]! << 8) | packet[offset + 3]!)
  }
  if (packet.length < offset + 4) return undefined
  const event = packet[offset]!
  if (event >= DIGITS.length) return undefined
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength)
  return {
    digit: DIGITS[event]!,
    end: (packet[offset + 1]! & 0x80) !== 0,
    duration: view.getUint16(offset + 2),
    timestamp: view.getUint32(4),
  }
}

/** Turns a call's telephone-event packets into digits, each once. */
export class DtmfCollector {
  private readonly ended = new Set<number>()

  constructor(private readonly payloadType = 101) {}

  /** The digit this packet completes, if it is the first End packet of its event. */
  push(packet: Uint8Array): string | undefined {
    const e = parseTelephoneEvent(packet, this.payloadType)
    if (!e || !e.end || this.ended.has(e.timestamp)) return undefined
    this.ended.add(e.timestamp)
    // a long call presses few keys; keep the memory of old events bounded all the same
    if (this.ended.size > 64) this.ended.delete(this.ended.values().next().value as number)
    return e.digit
  }
}
