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
 * fails with the directory and the missing files named; model files that are not ONNX, keywords spelled in tokens
 * the model lacks, and bad settings are refused too (onnxruntime would abort the process on a damaged model).
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs'
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
  checkSherpaKwsConfig(cfg)
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
  const files_ = found as SherpaModelFiles
  for (const f of [files_.encoder, files_.decoder, files_.joiner]) checkOnnxFile(f)
  checkKeywords(files_.keywordsFile, files_.tokens)
  return files_
}

/**
 * onnxruntime aborts the whole process (a C++ exception through the addon, not a JS error) on a file that is not an
 * ONNX model, so the obvious damage is caught here: an empty or truncated file, or one that does not start as an
 * ONNX ModelProto does (field 1, ir_version, a varint: tag byte 0x08).
 */
export function checkOnnxFile(file: string): void {
  const size = statSync(file).size
  const head = Buffer.alloc(1)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, head, 0, 1, 0)
  } finally {
    closeSync(fd)
  }
  if (size < 64 || head[0] !== 0x08) throw new Error(`sherpa-onnx KWS model file ${file} is not an ONNX model (${size} bytes): provision the model again`)
}

/**
 * Every keyword line must be spelled in the model's tokens (`sherpa-onnx-cli text2token` writes them): a token the
 * model does not know is named with its line here, instead of a keyword that silently never fires. A line is tokens,
 * then optional `@shown-name`, `:boost` and `#threshold`.
 */
export function checkKeywords(keywordsFile: string, tokensFile: string): void {
  const known = new Set(
    readFileSync(tokensFile, 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((t): t is string => !!t),
  )
  const problems: string[] = []
  let keywords = 0
  readFileSync(keywordsFile, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const words = line.trim().split(/\s+/).filter((w) => w !== '')
      const tokens = words.filter((w) => !/^[@:#]/.test(w))
      if (words.length === 0) return
      keywords++
      if (tokens.length === 0) problems.push(`line ${i + 1} has no tokens`)
      const unknown = tokens.filter((t) => !known.has(t))
      if (unknown.length) problems.push(`line ${i + 1} has tokens the model does not know: ${unknown.join(' ')}`)
    })
  if (keywords === 0) problems.push('no keywords')
  if (problems.length) throw new Error(`sherpa-onnx keywords file ${keywordsFile}: ${problems.join('; ')} (make lines with sherpa-onnx-cli text2token)`)
}

/** Refuses settings sherpa would take silently or abort on. */
export function checkSherpaKwsConfig(cfg: SherpaKwsConfig): void {
  const bad: string[] = []
  if (cfg.numThreads !== undefined && !(Number.isInteger(cfg.numThreads) && cfg.numThreads >= 1)) bad.push(`numThreads ${cfg.numThreads} (a positive integer)`)
  if (cfg.keywordsThreshold !== undefined && !(cfg.keywordsThreshold > 0 && cfg.keywordsThreshold < 1)) bad.push(`keywordsThreshold ${cfg.keywordsThreshold} (between 0 and 1)`)
  if (cfg.keywordsScore !== undefined && !(cfg.keywordsScore > 0 && Number.isFinite(cfg.keywordsScore))) bad.push(`keywordsScore ${cfg.keywordsScore} (positive)`)
  if (bad.length) throw new Error(`sherpa-onnx KWS config: bad ${bad.join(', ')}`)
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

/** Whether sherpa-onnx-node and its native addon load here (an optional dependency: a platform may lack it). */
export function sherpaOnnxLoads(): boolean {
  try {
    return typeof loadSherpa().KeywordSpotter === 'function'
  } catch {
    return false
  }
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
