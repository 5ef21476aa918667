/**
 * The neural keyword spotter for production: sherpa-onnx's KeywordSpotter (a streaming zipformer transducer, e.g.
 * `sherpa-onnx-kws-zipformer-wenetspeech-3.3M-2024-01-01` for Mandarin or `…-gigaspeech-3.3M-…` for English), run
 * in-process through `sherpa-onnx-node` (an optional dependency with prebuilt binaries; nothing is downloaded at run
 * time). Unlike the template spotter it needs no recorded examples: keywords are written as the model's tokens in a
 * keywords file, one per line, e.g. `t óu s ù @投诉` (made with `sherpa-onnx-cli text2token`).
 *
 * The model directory is named in config and provisioned by the operator (no model can be downloaded on our
 * machines); it must hold `encoder*.onnx`, `decoder*.onnx`, `joiner*.onnx` and `tokens.txt`, and `keywords.txt`
 * unless another keywords file is named. Everything is checked before the native addon is loaded, so a wrong path
 * fails with the directory and the missing files named.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { KeywordHit } from './spot-keywords.js'
import type { PcmAudio } from './wav.js'

export interface SherpaKwsConfig {
  /** Directory of the KWS model (see above). */
  modelDir: string
  /** Default: `<modelDir>/keywords.txt`. */
  keywordsFile?: string
  numThreads?: number
  /** Detection threshold, 0..1 (sherpa's default 0.25); higher = fewer, surer hits. */
  keywordsThreshold?: number
  /** Boost of keyword paths in the search (sherpa's default 1.0). */
  keywordsScore?: number
}

export interface SherpaModelFiles {
  encoder: string
  decoder: string
  joiner: string
  tokens: string
  keywordsFile: string
}

/** Finds the model's files; throws naming the directory and every missing file. Prefers full precision over int8. */
export function locateSherpaKwsModel(cfg: SherpaKwsConfig): SherpaModelFiles {
  const dir = cfg.modelDir
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`sherpa-onnx KWS model directory ${dir} does not exist: set it in config to a provisioned model (e.g. sherpa-onnx-kws-zipformer-wenetspeech-3.3M-2024-01-01)`)
  }
  const files = readdirSync(dir)
  const pick = (part: string) => {
    const all = files.filter((f) => f.startsWith(part) && f.endsWith('.onnx')).sort()
    const f = all.find((x) => !x.includes('int8')) ?? all[0]
    return f === undefined ? undefined : join(dir, f)
  }
  const found = {
    encoder: pick('encoder'),
    decoder: pick('decoder'),
    joiner: pick('joiner'),
    tokens: files.includes('tokens.txt') ? join(dir, 'tokens.txt') : undefined,
    keywordsFile: cfg.keywordsFile ?? join(dir, 'keywords.txt'),
  }
  const missing = Object.entries({ 'encoder*.onnx': found.encoder, 'decoder*.onnx': found.decoder, 'joiner*.onnx': found.joiner, 'tokens.txt': found.tokens })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k)
  if (!existsSync(found.keywordsFile)) missing.push(cfg.keywordsFile ?? 'keywords.txt')
  if (missing.length) throw new Error(`sherpa-onnx KWS model directory ${dir} lacks ${missing.join(', ')}`)
  return found as SherpaModelFiles
}

// The slice of sherpa-onnx-node used here (it ships JSDoc types only).
interface SherpaStream {
  acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void
  inputFinished(): void
}
interface SherpaSpotter {
  createStream(): SherpaStream
  isReady(s: SherpaStream): boolean
  decode(s: SherpaStream): void
  reset(s: SherpaStream): void
  getResult(s: SherpaStream): { keyword: string; start_time?: number; timestamps?: number[] }
}
interface SherpaModule {
  KeywordSpotter: new (config: unknown) => SherpaSpotter
}

function loadSherpa(): SherpaModule {
  try {
    return createRequire(import.meta.url)('sherpa-onnx-node') as SherpaModule
  } catch (err) {
    throw new Error(`sherpa-onnx-node cannot be loaded (an optional dependency; install it for the neural keyword spotter): ${(err as Error).message}`, { cause: err })
  }
}

export class SherpaKeywordSpotter {
  private constructor(private readonly kws: SherpaSpotter) {}

  static open(cfg: SherpaKwsConfig): SherpaKeywordSpotter {
    const m = locateSherpaKwsModel(cfg)
    const sherpa = loadSherpa()
    const kws = new sherpa.KeywordSpotter({
      featConfig: { sampleRate: 16000, featureDim: 80 },
      modelConfig: {
        transducer: { encoder: m.encoder, decoder: m.decoder, joiner: m.joiner },
        tokens: m.tokens,
        numThreads: cfg.numThreads ?? 1,
        provider: 'cpu',
        debug: 0,
      },
      keywordsFile: m.keywordsFile,
      ...(cfg.keywordsThreshold !== undefined ? { keywordsThreshold: cfg.keywordsThreshold } : {}),
      ...(cfg.keywordsScore !== undefined ? { keywordsScore: cfg.keywordsScore } : {}),
    })
    return new SherpaKeywordSpotter(kws)
  }

  /**
   * Every keyword heard, per channel. sherpa resamples our 8 kHz to the model's 16 kHz itself. It gives no score
   * (its threshold decides), so confidence is 1.
   */
  spot(audio: PcmAudio, parties: string[]): KeywordHit[] {
    const hits: KeywordHit[] = []
    for (let c = 0; c < audio.channels; c++) {
      const n = audio.samples.length / audio.channels
      const samples = new Float32Array(n)
      for (let i = 0; i < n; i++) samples[i] = audio.samples[i * audio.channels + c]! / 32768
      const stream = this.kws.createStream()
      stream.acceptWaveform({ samples, sampleRate: audio.sampleRate })
      // Tail padding lets the last keyword's frames through the model's lookahead.
      stream.acceptWaveform({ samples: new Float32Array(Math.round(audio.sampleRate * 0.4)), sampleRate: audio.sampleRate })
      stream.inputFinished()
      while (this.kws.isReady(stream)) {
        this.kws.decode(stream)
        const r = this.kws.getResult(stream)
        if (r.keyword !== '') {
          hits.push({ keyword: r.keyword, party: parties[c] ?? `channel-${c}`, atMs: Math.round(((r.start_time ?? 0) + (r.timestamps?.[0] ?? 0)) * 1000), confidence: 1 })
          this.kws.reset(stream)
        }
      }
    }
    return hits.sort((a, b) => a.atMs - b.atMs)
  }
}
