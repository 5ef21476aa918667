/**
 * A carrier's media endpoint under the test's control: one RTP stream (PCMU, 20 ms packets, one SSRC, continuous
 * sequence numbers and timestamps) sent from a UDP port the carrier's SDP names, to wherever rtpengine offered the
 * carrier. What it plays can be changed while the call goes on (ringback, then a SIT; or ringback, then a greeting);
 * between programs it sends silence, as a carrier's media gateway does.
 */
import dgram from 'node:dgram'

const PACKET_BYTES = 160
const MULAW_SILENCE = 0xff

export class RtpPeer {
  private readonly socket = dgram.createSocket('udp4')
  private to: { host: string; port: number } | undefined
  private program: { audio: Uint8Array; loop: boolean; offset: number } | undefined
  private timer: NodeJS.Timeout | undefined
  private startedAt = 0
  private seq = Math.floor(Math.random() * 65536)
  private ts = Math.floor(Math.random() * 2 ** 31)
  private readonly ssrc = Math.floor(Math.random() * 2 ** 32)
  /** Packets sent so far. */
  sent = 0
  /** The µ-law payloads of the PCMU packets that reached this endpoint (what the carrier's caller heard), in order. */
  readonly heard: Buffer[] = []

  static async open(): Promise<RtpPeer> {
    const p = new RtpPeer()
    p.socket.on('message', (m) => {
      // PT 0 only (PCMU); a 12-byte header with no CSRCs or extension, as rtpengine sends
      if (m.length > 12 && (m[1]! & 0x7f) === 0) p.heard.push(m.subarray(12))
    })
    await new Promise<void>((resolve) => p.socket.bind(0, '127.0.0.1', resolve))
    return p
  }

  get port(): number {
    return this.socket.address().port
  }

  /** Starts sending (silence until something is played) to the carrier-facing address rtpengine offered. */
  sendTo(to: { host: string; port: number }): void {
    this.to = to
    if (this.timer) return
    this.startedAt = Date.now()
    // a packet every 20 ms on the wall clock: the timer only wakes us, the clock says how many packets are due
    this.timer = setInterval(() => {
      const due = Math.floor((Date.now() - this.startedAt) / 20)
      while (this.sent < due) this.sendOne()
    }, 10)
  }

  /** Plays raw µ-law audio from its start, replacing what was playing; `loop` repeats it until replaced. */
  play(audio: Uint8Array, loop = false): void {
    this.program = { audio, loop, offset: 0 }
  }

  /**
   * Presses a key as RFC 4733 says a phone does: telephone-event packets (payload type `pt`) in place of the audio
   * for `ms`, all with the event's start timestamp, the marker on the first, the last three flagged End.
   */
  pressKey(key: string, pt = 101, ms = 100): void {
    const code = '0123456789*#ABCD'.indexOf(key)
    if (code < 0) throw new Error(`no DTMF key ${key}`)
    const steps = Math.max(1, Math.round(ms / 20))
    const start = this.ts
    const packets: Buffer[] = []
    for (let i = 1; i <= steps + 2; i++) {
      const end = i >= steps
      const payload = Buffer.alloc(4)
      payload[0] = code
      payload[1] = (end ? 0x80 : 0) | 10 // volume -10 dBm0
      payload.writeUInt16BE(Math.min(steps, i) * 160, 2)
      const header = Buffer.alloc(12)
      header[0] = 0x80
      header[1] = (i === 1 ? 0x80 : 0) | pt
      header.writeUInt32BE(start >>> 0, 4)
      header.writeUInt32BE(this.ssrc >>> 0, 8)
      packets.push(Buffer.concat([header, payload]))
    }
    this.events.push(...packets)
    // the audio resumes after the event with its timestamp moved on by the event's length
    this.ts = (this.ts + steps * PACKET_BYTES) % 2 ** 32
  }

  private readonly events: Buffer[] = []

  /** True once a program that does not loop has been sent whole. */
  get idle(): boolean {
    return this.program === undefined
  }

  private sendOne(): void {
    const event = this.events.shift()
    if (event) {
      event.writeUInt16BE(this.seq, 2)
      this.seq = (this.seq + 1) & 0xffff
      this.sent++
      if (this.to) this.socket.send(event, this.to.port, this.to.host)
      return
    }
    const payload = Buffer.alloc(PACKET_BYTES, MULAW_SILENCE)
    const p = this.program
    if (p) {
      const n = Math.min(PACKET_BYTES, p.audio.length - p.offset)
      payload.set(p.audio.subarray(p.offset, p.offset + n))
      p.offset += n
      if (p.offset >= p.audio.length) {
        if (p.loop) p.offset = 0
        else this.program = undefined
      }
    }
    const header = Buffer.alloc(12)
    header[0] = 0x80
    header[1] = this.sent === 0 ? 0x80 : 0 // marker on the first packet, PT 0 (PCMU)
    header.writeUInt16BE(this.seq, 2)
    header.writeUInt32BE(this.ts >>> 0, 4)
    header.writeUInt32BE(this.ssrc >>> 0, 8)
    this.seq = (this.seq + 1) & 0xffff
    this.ts = (this.ts + PACKET_BYTES) % 2 ** 32
    this.sent++
    if (this.to) this.socket.send(Buffer.concat([header, payload]), this.to.port, this.to.host)
  }

  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    return new Promise((resolve) => this.socket.close(() => resolve()))
  }
}
