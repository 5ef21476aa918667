/**
 * drachtio's admin framing: `<decimal byte length>#<payload>`, frames freely split and coalesced by TCP.
 * The server side is stricter than the client: at most 5 prefix digits, and any non-digit drops the connection
 * without a reply (PROTOCOL.md §2, transcript a2-raw-edges conn6/conn7). A frame bigger than the real server's
 * ring buffer (12228 bytes) stalls the real connection; the double reports it instead of stalling (see README).
 */

export const MAX_PREFIX_DIGITS = 5
export const SERVER_BUFFER_BYTES = 12228

export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8')
  return Buffer.concat([Buffer.from(`${body.length}#`, 'ascii'), body])
}

export type FrameError = 'bad-prefix' | 'too-large'

/** Reassembles frames from a byte stream the way drachtio-server does (client.cpp). */
export class FrameDecoder {
  private buf = Buffer.alloc(0)

  /** Returns the complete payloads, or an error once the stream can no longer be parsed (the caller then drops it). */
  push(chunk: Buffer): { frames: string[]; error?: FrameError } {
    this.buf = Buffer.concat([this.buf, chunk])
    const frames: string[] = []
    for (;;) {
      const hash = this.buf.indexOf(0x23)
      const prefixEnd = hash === -1 ? this.buf.length : hash
      for (let i = 0; i < prefixEnd; i++) {
        const c = this.buf[i]!
        if (c < 0x30 || c > 0x39) return { frames, error: 'bad-prefix' }
      }
      if (prefixEnd > MAX_PREFIX_DIGITS) return { frames, error: 'bad-prefix' }
      if (hash === -1) return { frames }
      if (hash === 0) return { frames, error: 'bad-prefix' }
      const len = Number(this.buf.toString('ascii', 0, hash))
      if (len > SERVER_BUFFER_BYTES) return { frames, error: 'too-large' }
      if (this.buf.length < hash + 1 + len) return { frames }
      frames.push(this.buf.toString('utf8', hash + 1, hash + 1 + len))
      this.buf = this.buf.subarray(hash + 1 + len)
    }
  }
}
