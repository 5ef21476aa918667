/**
 * The UDP edge of media analysis: one socket that receives the RTP rtpengine forks to us (early media, the first
 * seconds after answer) for many calls at once, and hands each call's 20 ms frames to its analysers (AMD, the
 * early-media screen). This is the only file of `media/` that does I/O; the depacketizer and the analysers stay pure.
 *
 * A call is registered before its media flows, keyed by what the adapter knows from the SDP exchange: the source
 * address rtpengine will send from ("ip:port" of its subscription), or the SSRC, or both. A datagram that matches no
 * call is counted and dropped (late packets of a finished call, strays), never thrown. rtpengine may advertise another
 * address in its SDP than the one its packets leave from (a public address, `local!public`, while it sends to us from
 * its local one): a datagram from an unregistered address whose port is that of exactly one registered source is that
 * call's (counted in `matchedByPort`); two calls on the same port of different hosts make it ambiguous, and dropped. A sink that throws is reported
 * through `onError` and the stream goes on: nothing in an audio stream may crash the process.
 */
import dgram from 'node:dgram'
import type { G711Law } from './g711.js'
import { RtpDepacketizer, type RtpStats } from './rtp.js'

export interface RtpStreamKey {
  /** "ip:port" the media comes from (rtpengine's side of the fork). */
  source?: string
  ssrc?: number
}

export interface RtpStreamOptions extends RtpStreamKey {
  /** Receives every whole 20 ms frame, in order, gaps as silence. */
  onFrame: (frame: Int16Array) => void
  /** Receives every packet of the stream as it came (telephone-event packets for DTMF among them). */
  onPacket?: (packet: Uint8Array) => void
  /** Dynamic payload types from the negotiated SDP. */
  payloadTypes?: Record<number, G711Law>
  /** Reorder window in packets (RtpDepacketizer's, 3 by default). */
  window?: number
}

export interface RtpStream {
  readonly stats: RtpStats
  /** Plays what is held (gaps as silence) and forgets the call; later packets for it count as unmatched. */
  close(): void
}

export interface RtpSocketOptions {
  host?: string
  /** 0 (default) lets the system choose; read the bound port from `bind()`. */
  port?: number
  onError?: (err: Error, context: { source: string; ssrc?: number }) => void
}

const addrKey = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`)

function portOf(source: string): number | undefined {
  const m = /:(\d+)$/.exec(source)
  return m ? Number(m[1]) : undefined
}

interface Entry {
  key: RtpStreamKey
  depacketizer: RtpDepacketizer
  onFrame: (frame: Int16Array) => void
  onPacket?: ((packet: Uint8Array) => void) | undefined
  closed: boolean
}

export class RtpSocket {
  private readonly socket: dgram.Socket
  private readonly bySource = new Map<string, Entry>()
  private readonly bySsrc = new Map<number, Entry>()
  private readonly byPort = new Map<number, Set<Entry>>()
  /** Datagrams no call claimed. */
  unmatched = 0
  /** Datagrams claimed by their source port alone (the address differed from the registered one). */
  matchedByPort = 0

  constructor(private readonly opts: RtpSocketOptions = {}) {
    const family = opts.host?.includes(':') ? 'udp6' : 'udp4'
    this.socket = dgram.createSocket({ type: family, recvBufferSize: 4 * 1024 * 1024 })
    this.socket.on('message', (msg, rinfo) => this.receive(msg, addrKey(rinfo.address, rinfo.port), rinfo.port))
    this.socket.on('error', (err) => this.opts.onError?.(err, { source: 'socket' }))
  }

  bind(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject)
      this.socket.bind(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        this.socket.off('error', reject)
        const a = this.socket.address()
        resolve({ address: a.address, port: a.port })
      })
    })
  }

  /** Registers a call's stream; at least one of source and ssrc must be given, and neither may be taken. */
  open(opts: RtpStreamOptions): RtpStream {
    if (opts.source === undefined && opts.ssrc === undefined) throw new Error('an RTP stream needs a source address or an SSRC to be told apart')
    if (opts.source !== undefined && this.bySource.has(opts.source)) throw new Error(`RTP source ${opts.source} is already registered`)
    if (opts.ssrc !== undefined && this.bySsrc.has(opts.ssrc)) throw new Error(`RTP SSRC ${opts.ssrc} is already registered`)
    const entry: Entry = {
      key: { ...(opts.source !== undefined ? { source: opts.source } : {}), ...(opts.ssrc !== undefined ? { ssrc: opts.ssrc } : {}) },
      depacketizer: new RtpDepacketizer({ ...(opts.payloadTypes ? { payloadTypes: opts.payloadTypes } : {}), ...(opts.window !== undefined ? { window: opts.window } : {}) }),
      onFrame: opts.onFrame,
      onPacket: opts.onPacket,
      closed: false,
    }
    if (opts.source !== undefined) {
      this.bySource.set(opts.source, entry)
      const port = portOf(opts.source)
      if (port !== undefined) this.byPort.set(port, (this.byPort.get(port) ?? new Set()).add(entry))
    }
    if (opts.ssrc !== undefined) this.bySsrc.set(opts.ssrc, entry)
    return {
      stats: entry.depacketizer.stats,
      close: () => {
        if (entry.closed) return
        this.frames(entry, entry.depacketizer.flush())
        entry.closed = true
        if (entry.key.source !== undefined) {
          this.bySource.delete(entry.key.source)
          const port = portOf(entry.key.source)
          const same = port !== undefined ? this.byPort.get(port) : undefined
          same?.delete(entry)
          if (same?.size === 0) this.byPort.delete(port!)
        }
        if (entry.key.ssrc !== undefined) this.bySsrc.delete(entry.key.ssrc)
      },
    }
  }

  private receive(msg: Buffer, source: string, port: number): void {
    let entry = this.bySource.get(source)
    if (!entry && msg.length >= 12) entry = this.bySsrc.get(msg.readUInt32BE(8))
    if (!entry) {
      const same = this.byPort.get(port)
      if (same?.size === 1) {
        const only = [...same][0]!
        if (only.key.ssrc === undefined || (msg.length >= 12 && msg.readUInt32BE(8) === only.key.ssrc)) {
          this.matchedByPort++
          this.deliver(only, msg)
          return
        }
      }
    }
    // A stream keyed by both must match both: another call's packets from a reused port are not ours.
    if (!entry || (entry.key.source !== undefined && entry.key.source !== source) || (entry.key.ssrc !== undefined && msg.length >= 12 && msg.readUInt32BE(8) !== entry.key.ssrc)) {
      this.unmatched++
      return
    }
    this.deliver(entry, msg)
  }

  private deliver(entry: Entry, msg: Buffer): void {
    const packet = new Uint8Array(msg.buffer, msg.byteOffset, msg.length)
    if (entry.onPacket) {
      try {
        entry.onPacket(packet)
      } catch (err) {
        this.opts.onError?.(err as Error, { source: entry.key.source ?? 'ssrc' })
      }
    }
    this.frames(entry, entry.depacketizer.push(packet))
  }

  private frames(entry: Entry, frames: Int16Array[]): void {
    for (const f of frames) {
      try {
        entry.onFrame(f)
      } catch (err) {
        this.opts.onError?.(err as Error, { source: entry.key.source ?? 'ssrc', ...(entry.key.ssrc !== undefined ? { ssrc: entry.key.ssrc } : {}) })
      }
    }
  }

  close(): Promise<void> {
    for (const e of new Set([...this.bySource.values(), ...this.bySsrc.values()])) this.frames(e, e.depacketizer.flush())
    this.bySource.clear()
    this.bySsrc.clear()
    this.byPort.clear()
    return new Promise((resolve) => this.socket.close(() => resolve()))
  }
}
