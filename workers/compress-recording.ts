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
import { createRequire } from 'node:module'
import { Decoder, Encoder } from '@evan/opus'
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
  /** Opus packet length: 20 ms (default) or 40/60 ms (fewer, larger packets: a little faster and smaller). */
  frameMs?: OpusFrameMs
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

/** Encode to Ogg Opus in memory: packets of `frameMs`, the last one padded with silence. */
export const OPUS_FRAME_MS = [20, 40, 60] as const
export type OpusFrameMs = (typeof OPUS_FRAME_MS)[number]

/**
 * libopus through `@evan/opus`: its prebuilt native addon for the platform (shipped inside the npm package), or
 * libopus in WASM with SIMD where no addon fits. The native one is about 1.5x as fast as opusscript's WASM build with
 * byte-identical output (same libopus), which is what takes a 60 s stereo call past 200x realtime per core.
 */
export const OPUS_BACKEND: 'native' | 'wasm' = opusBackend()
function opusBackend(): 'native' | 'wasm' {
  if (process.env.OPUS_FORCE_WASM) return 'wasm'
  // The package falls back to WASM silently; loading its addon here (cached, so no second copy) tells which one runs.
  try {
    createRequire(import.meta.url)('@evan/opus/node/index.js')
    return 'native'
  } catch {
    return 'wasm'
  }
}

export function encodeOggOpus(audio: PcmAudio, bitrate = 16000, complexity = 5, frameMs: OpusFrameMs = 20): Uint8Array {
  if (!OPUS_FRAME_MS.includes(frameMs)) throw new RangeError(`Opus frame ${frameMs} ms: ${OPUS_FRAME_MS.join(', ')}`)
  if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) throw new RangeError(`Opus complexity ${complexity}: 0-10`)
  const rate = audio.sampleRate as OpusRate
  if (!OPUS_RATES.includes(rate)) throw new Error(`Opus cannot take ${audio.sampleRate} Hz audio (8/12/16/24/48 kHz)`)
  if (audio.channels !== 1 && audio.channels !== 2) throw new Error(`Opus files here are mono or stereo, not ${audio.channels} channels`)
  const enc = new Encoder({ channels: audio.channels, sample_rate: rate, application: 'voip' })
  enc.bitrate = bitrate
  enc.complexity = complexity as Complexity
  const frame = (rate / 1000) * frameMs
  const step = frame * audio.channels
  const writer = new OggOpusWriter(audio.channels, rate)
  const granules = (OPUS_GRANULE_RATE / 1000) * frameMs
  const samples = audio.samples
  // The frame length is the length of the samples given, so full frames go as views of the recording (no copy);
  // only the last one is padded with silence to a full frame.
  for (let o = 0; o < samples.length; o += step) {
    let pcm = samples.subarray(o, o + step)
    if (pcm.length < step) {
      const last = new Int16Array(step)
      last.set(pcm)
      pcm = last
    }
    // encode() returns a copy of the packet (a Uint8Array of its own): the writer may keep it.
    writer.addPacket(enc.encode(pcm), granules)
  }
  return writer.finish()
}
type Complexity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10

/** Decode every packet; returns samples per channel. Throws on any damaged page or packet. */
export function decodedLength(file: Uint8Array): { samplesPerChannel: number; channels: number; rate: number } {
  const c = readOggOpus(file)
  const rate = c.inputRate as OpusRate
  if (c.channels !== 1 && c.channels !== 2) throw new Error(`Opus file with ${c.channels} channels`)
  const dec = new Decoder({ channels: c.channels, sample_rate: OPUS_RATES.includes(rate) ? rate : 48000 })
  let n = 0
  for (const p of c.packets) n += dec.decode(p).length / 2 / c.channels
  return { samplesPerChannel: n, channels: c.channels, rate }
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
    const frameMs = task.frameMs ?? 20
    const ogg = encodeOggOpus(audio, task.bitrate ?? 16000, task.complexity ?? 5, frameMs)
    await writeFile(tmp, ogg)
    const back = await readFile(tmp)
    const sha256 = createHash('sha256').update(back).digest('hex')
    if (sha256 !== createHash('sha256').update(ogg).digest('hex')) throw new Error('the written file differs from the encoded one')
    const want = audio.samples.length / audio.channels
    const got = decodedLength(back)
    const frame = (audio.sampleRate / 1000) * frameMs
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
