/**
 * compress-recording: one call's recording to one Ogg Opus file: rtpengine's pcap (`--recording-method=pcap`: the
 * RTP each party sent, G.711, read by `pcap.ts` and `rtp-recording.ts`, lost packets as silence) or a WAV (both
 * parties, one per channel, as rtpengine's recording daemon writes them). The Opus file is stereo or mixed to mono,
 * with its duration and SHA-256. It is written to a temporary name, read back, CRC-checked and decoded in full; only
 * when its decoded length matches the recording is it renamed into place, and only then is the original deleted (if
 * asked). A failure at any step leaves the original alone.
 */
import { createHash } from 'node:crypto'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import OpusScript from 'opusscript'
import { OggOpusWriter, OPUS_GRANULE_RATE, readOggOpus } from './ogg-opus.js'
import { isPcap, parsePcap } from './pcap.js'
import { readRtpRecording, type RecordingParty } from './rtp-recording.js'
import { parseWav, type PcmAudio } from './wav.js'

export interface CompressRecordingTask {
  input: string
  output: string
  /** Bits per second of the Opus stream; 16000 by default. */
  bitrate?: number
  /** Keep the parties apart (stereo) or mix them (mono, half the size). */
  layout?: 'stereo' | 'mixed'
  deleteOriginal?: boolean
  /** libopus complexity 0-10 (10 is its default); 5 is about twice as fast at a small cost in quality. */
  complexity?: number
  /** pcap input: the party sending from this "ip:port" goes on the left channel (default: who spoke first). */
  firstSource?: string
}

export interface CompressRecordingResult {
  output: string
  durationMs: number
  bytes: number
  inputBytes: number
  sha256: string
  channels: number
  originalDeleted: boolean
  /** pcap input: who was heard on which channel, with packet and loss counts. */
  parties?: RecordingParty[]
}

const OPUS_RATES = [8000, 12000, 16000, 24000, 48000] as const
type OpusRate = (typeof OPUS_RATES)[number]

export function mixToMono(a: PcmAudio): PcmAudio {
  if (a.channels === 1) return a
  const n = a.samples.length / 2
  const out = new Int16Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.max(-32768, Math.min(32767, (a.samples[2 * i]! + a.samples[2 * i + 1]!) >> 1))
  return { sampleRate: a.sampleRate, channels: 1, samples: out }
}

/** Encode to Ogg Opus in memory: 20 ms packets, the last one padded with silence. */
const OPUS_SET_COMPLEXITY = 4010

export function encodeOggOpus(audio: PcmAudio, bitrate = 16000, complexity = 5): Uint8Array {
  if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) throw new RangeError(`Opus complexity ${complexity}: 0-10`)
  const rate = audio.sampleRate as OpusRate
  if (!OPUS_RATES.includes(rate)) throw new Error(`Opus cannot take ${audio.sampleRate} Hz audio (8/12/16/24/48 kHz)`)
  const enc = new OpusScript(rate, audio.channels, OpusScript.Application.VOIP)
  try {
    enc.setBitrate(bitrate)
    enc.encoderCTL(OPUS_SET_COMPLEXITY, complexity)
    const frame = (rate / 1000) * 20
    const step = frame * audio.channels
    const writer = new OggOpusWriter(audio.channels, rate)
    const buf = Buffer.alloc(step * 2)
    for (let o = 0; o < audio.samples.length; o += step) {
      buf.fill(0)
      const chunk = audio.samples.subarray(o, o + step)
      for (let i = 0; i < chunk.length; i++) buf.writeInt16LE(chunk[i]!, i * 2)
      writer.addPacket(new Uint8Array(enc.encode(buf, frame)), (OPUS_GRANULE_RATE / 1000) * 20)
    }
    return writer.finish()
  } finally {
    enc.delete()
  }
}

/** Decode every packet; returns samples per channel. Throws on any damaged page or packet. */
export function decodedLength(file: Uint8Array): { samplesPerChannel: number; channels: number; rate: number } {
  const c = readOggOpus(file)
  const rate = c.inputRate as OpusRate
  const dec = new OpusScript(OPUS_RATES.includes(rate) ? rate : 48000, c.channels, OpusScript.Application.VOIP)
  try {
    let n = 0
    for (const p of c.packets) n += dec.decode(Buffer.from(p)).length / 2 / c.channels
    return { samplesPerChannel: n, channels: c.channels, rate }
  } finally {
    dec.delete()
  }
}

export default async function compressRecording(task: CompressRecordingTask): Promise<CompressRecordingResult> {
  const tmp = `${task.output}.partial`
  try {
    const input = await readFile(task.input)
    let wav: PcmAudio
    let parties: RecordingParty[] | undefined
    if (isPcap(input)) {
      const cap = parsePcap(input)
      const rec = readRtpRecording(cap.datagrams, task.firstSource === undefined ? {} : { firstSource: task.firstSource })
      wav = rec.audio
      parties = rec.parties
    } else {
      wav = parseWav(input)
    }
    const audio = task.layout === 'mixed' ? mixToMono(wav) : wav
    const ogg = encodeOggOpus(audio, task.bitrate ?? 16000, task.complexity ?? 5)
    await writeFile(tmp, ogg)
    const back = await readFile(tmp)
    const sha256 = createHash('sha256').update(back).digest('hex')
    if (sha256 !== createHash('sha256').update(ogg).digest('hex')) throw new Error('the written file differs from the encoded one')
    const want = audio.samples.length / audio.channels
    const got = decodedLength(back)
    const frame = (audio.sampleRate / 1000) * 20
    if (got.channels !== audio.channels || got.samplesPerChannel < want || got.samplesPerChannel - want >= frame) {
      throw new Error(`verification failed: decoded ${got.samplesPerChannel} samples × ${got.channels} ch, recorded ${want} × ${audio.channels}`)
    }
    await rename(tmp, task.output)
    let originalDeleted = false
    if (task.deleteOriginal) {
      await rm(task.input)
      originalDeleted = true
    }
    return {
      output: task.output,
      durationMs: (want / audio.sampleRate) * 1000,
      bytes: (await stat(task.output)).size,
      inputBytes: input.length,
      sha256,
      channels: audio.channels,
      originalDeleted,
      ...(parties ? { parties } : {}),
    }
  } catch (err) {
    await rm(tmp, { force: true })
    throw new Error(`compress-recording ${task.input}: ${(err as Error).message}`, { cause: err })
  }
}
