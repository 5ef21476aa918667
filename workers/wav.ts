/**
 * WAV files as rtpengine and most recorders write them: 16-bit PCM or G.711 (A-law 6, µ-law 7), mono or
 * stereo (one party per channel). Decoded to interleaved 16-bit samples.
 */
import { decodeG711 } from '../engine/media/g711.js'

export interface PcmAudio {
  sampleRate: number
  channels: number
  /** Interleaved samples. */
  samples: Int16Array
}

export function parseWav(buf: Uint8Array): PcmAudio {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const tag = (o: number) => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!)
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a WAV file: no RIFF/WAVE header')
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined
  let o = 12
  while (o + 8 <= buf.length) {
    const id = tag(o)
    const size = dv.getUint32(o + 4, true)
    const body = o + 8
    if (id === 'fmt ') {
      fmt = { format: dv.getUint16(body, true), channels: dv.getUint16(body + 2, true), rate: dv.getUint32(body + 4, true), bits: dv.getUint16(body + 14, true) }
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV: data chunk before fmt chunk')
      if (fmt.channels < 1 || fmt.channels > 2) throw new Error(`WAV: ${fmt.channels} channels; expected 1 or 2`)
      const data = buf.subarray(body, Math.min(buf.length, body + size))
      if (fmt.format === 1 && fmt.bits === 16) {
        const n = Math.floor(data.length / 2)
        const samples = new Int16Array(n)
        const ddv = new DataView(data.buffer, data.byteOffset, data.byteLength)
        for (let i = 0; i < n; i++) samples[i] = ddv.getInt16(i * 2, true)
        return { sampleRate: fmt.rate, channels: fmt.channels, samples }
      }
      if ((fmt.format === 6 || fmt.format === 7) && fmt.bits === 8) {
        return { sampleRate: fmt.rate, channels: fmt.channels, samples: decodeG711(data, fmt.format === 7 ? 'mulaw' : 'alaw') }
      }
      throw new Error(`WAV: format ${fmt.format} with ${fmt.bits} bits is not supported (16-bit PCM, A-law or µ-law)`)
    }
    o = body + size + (size & 1)
  }
  throw new Error('WAV: no data chunk')
}

export function pcmWav(audio: PcmAudio): Uint8Array {
  const bytes = audio.samples.length * 2
  const out = new Uint8Array(44 + bytes)
  const dv = new DataView(out.buffer)
  const put = (o: number, s: string) => [...s].forEach((c, i) => (out[o + i] = c.charCodeAt(0)))
  put(0, 'RIFF')
  dv.setUint32(4, 36 + bytes, true)
  put(8, 'WAVE')
  put(12, 'fmt ')
  dv.setUint32(16, 16, true)
  dv.setUint16(20, 1, true)
  dv.setUint16(22, audio.channels, true)
  dv.setUint32(24, audio.sampleRate, true)
  dv.setUint32(28, audio.sampleRate * audio.channels * 2, true)
  dv.setUint16(32, audio.channels * 2, true)
  dv.setUint16(34, 16, true)
  put(36, 'data')
  dv.setUint32(40, bytes, true)
  for (let i = 0; i < audio.samples.length; i++) dv.setInt16(44 + i * 2, audio.samples[i]!, true)
  return out
}
