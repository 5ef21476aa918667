/**
 * spot-keywords: every hit of a campaign's keywords in one recording, per party, from enrolled audio examples
 * (MFCC + subsequence DTW, engine/media/template-matcher.ts): no model to download. Required phrases (identity,
 * consent) are reported present or missing. Examples are WAV files, each keyword said by many voices, speeds and
 * pitches (bench:workers enrols 7 voices × 2 styles); a keyword's cost is the mean of its best few examples', so one
 * odd example cannot fire alone. The threshold is per campaign because short keywords need a stricter one.
 *
 * Production alternative: a neural keyword spotter (sherpa-onnx's KeywordSpotter, `sherpa-kws.ts`) from a model
 * directory named in config.
 */
import { readFile } from 'node:fs/promises'
import { framesOf } from '../engine/media/frames.js'
import { enrol, TemplateMatcher, type HopMs, type Template } from '../engine/media/template-matcher.js'
import { SherpaKeywordSpotter, type SherpaKwsConfig } from './sherpa-kws.js'
import { recordingAudio } from './recording-audio.js'
import { parseWav, type PcmAudio } from './wav.js'

export interface KeywordExample {
  keyword: string
  /** WAV, 8 kHz, mono: the keyword alone, little silence around it. */
  file: string
}

export interface SpotKeywordsTask {
  /** A WAV, or rtpengine's pcap of the call (recording-audio.ts). */
  recording: string
  /** pcap input: the party sending from this "ip:port" is channel 0 (so `parties[0]`); default: who spoke first. */
  firstSource?: string
  /** Enrolled examples for the template spotter; ignored when `neural` is given. */
  examples: KeywordExample[]
  /** Use sherpa-onnx's neural KeywordSpotter from this model directory instead (sherpa-kws.ts). */
  neural?: SherpaKwsConfig
  /** Keywords that must be heard (e.g. the identity disclosure); reported present or missing. */
  required?: string[]
  /** Which party each channel of a stereo recording is; default ['agent', 'customer']. */
  parties?: string[]
  /**
   * Normalised DTW cost (mean of the best `topK` examples) under which a keyword is a hit. The default,
   * DEFAULT_KEYWORD_THRESHOLD, was chosen (best F1) on voices never enrolled, with 14 examples per keyword.
   */
  threshold?: number
  /**
   * Per-keyword thresholds, e.g. from calibrateKeywordThresholds() on the campaign's own calls without the keywords;
   * keywords not named use `threshold`.
   */
  thresholds?: Record<string, number>
  /** How many of a keyword's best-fitting examples are averaged; default DEFAULT_TOP_K. */
  topK?: number
}

/** A keyword's cost is the mean of its best `topK` examples' (template-matcher.ts); chosen on bench:workers' tune voices. */
export const DEFAULT_TOP_K = 3
export const DEFAULT_KEYWORD_THRESHOLD = 2.42
/** Keywords are short: features every 10 ms (overlapping 20 ms windows) give DTW twice the detail of one per frame. */
export const KEYWORD_HOP_MS: HopMs = 10

export interface KeywordHit {
  keyword: string
  party: string
  atMs: number
  /** 0..1, from the match cost relative to the threshold. */
  confidence: number
}

export interface SpotKeywordsResult {
  recording: string
  hits: KeywordHit[]
  required: Array<{ keyword: string; present: boolean }>
}

function channel(a: PcmAudio, c: number): Int16Array {
  if (a.channels === 1) return a.samples
  const n = a.samples.length / a.channels
  const out = new Int16Array(n)
  for (let i = 0; i < n; i++) out[i] = a.samples[i * a.channels + c]!
  return out
}

export async function loadKeywordTemplates(examples: KeywordExample[]): Promise<Template[]> {
  return Promise.all(
    examples.map(async (e) => {
      const a = parseWav(await readFile(e.file))
      if (a.sampleRate !== 8000) throw new Error(`keyword example ${e.file}: ${a.sampleRate} Hz; 8000 Hz expected`)
      return enrol(e.keyword, e.file, framesOf(channel(a, 0)), undefined, undefined, KEYWORD_HOP_MS)
    }),
  )
}

export function spotInAudio(
  audio: PcmAudio,
  templates: Template[],
  parties: string[],
  threshold: number,
  topK = DEFAULT_TOP_K,
  thresholds: Readonly<Record<string, number>> = {},
): KeywordHit[] {
  if (audio.sampleRate !== 8000) throw new Error(`recording at ${audio.sampleRate} Hz; 8000 Hz expected`)
  const hits: KeywordHit[] = []
  for (let c = 0; c < audio.channels; c++) {
    const party = parties[c] ?? `channel-${c}`
    const matcher = new TemplateMatcher(templates, { threshold, thresholds, topK })
    const frames = framesOf(channel(audio, c))
    const found = [...frames.flatMap((f) => matcher.push(f)), ...matcher.flush()]
    for (const m of found) {
      const th = thresholds[m.label] ?? threshold
      hits.push({ keyword: m.label, party, atMs: m.startFrame * 20, confidence: Math.max(0, Math.min(1, 1 - m.cost / (2 * th))) })
    }
  }
  return hits.sort((a, b) => a.atMs - b.atMs)
}

/** Each keyword's best (lowest) cost over each recording; the material calibration and tuning work from. */
export function bestKeywordCosts(recordings: readonly Int16Array[], templates: readonly Template[], topK = DEFAULT_TOP_K): Array<Record<string, number>> {
  return recordings.map((pcm) => {
    const best: Record<string, number> = {}
    const m = new TemplateMatcher(templates, { threshold: 0, topK, traceLabel: (l, c) => void (c < (best[l] ?? Infinity) && (best[l] = c)) })
    for (const f of framesOf(pcm)) m.push(f)
    return best
  })
}

/**
 * Per-keyword thresholds from speech that does not contain the keywords (a campaign's own calls, say): each
 * keyword's threshold is `ratio` times its mean best cost over those recordings. Keywords differ in how closely
 * they fit ordinary speech (a short word with common sounds fits it well), and one ratio over that per-keyword scale
 * separates hits from other speech better than one cost for all; the ratio is the one knob left to tune.
 * `negatives[i]` may contain keywords named in `contains[i]`: those keywords skip that recording.
 */
export function calibrateKeywordThresholds(
  negatives: ReadonlyArray<Readonly<Record<string, number>>>,
  ratio: number,
  contains: ReadonlyArray<readonly string[]> = [],
): Record<string, number> {
  const sums = new Map<string, { sum: number; n: number }>()
  negatives.forEach((best, i) => {
    for (const [k, c] of Object.entries(best)) {
      if (contains[i]?.includes(k) || !Number.isFinite(c)) continue
      const s = sums.get(k) ?? { sum: 0, n: 0 }
      s.sum += c
      s.n++
      sums.set(k, s)
    }
  })
  const out: Record<string, number> = {}
  for (const [k, { sum, n }] of sums) out[k] = Number(((ratio * sum) / n).toFixed(3))
  return out
}

/** One loaded model per worker thread and configuration: loading takes far longer than spotting a call. */
const spotters = new Map<string, SherpaKeywordSpotter>()
function neuralSpotter(cfg: SherpaKwsConfig): SherpaKeywordSpotter {
  const key = JSON.stringify(cfg)
  let s = spotters.get(key)
  if (!s) {
    s = SherpaKeywordSpotter.open(cfg)
    spotters.set(key, s)
  }
  return s
}

export default async function spotKeywords(task: SpotKeywordsTask): Promise<SpotKeywordsResult> {
  try {
    const parties = task.parties ?? ['agent', 'customer']
    if (task.neural) {
      const audio = recordingAudio(await readFile(task.recording), task.firstSource)
      const hits = neuralSpotter(task.neural).spot(audio, parties)
      return { recording: task.recording, hits, required: (task.required ?? []).map((keyword) => ({ keyword, present: hits.some((h) => h.keyword === keyword) })) }
    }
    const templates = await loadKeywordTemplates(task.examples)
    const audio = recordingAudio(await readFile(task.recording), task.firstSource)
    const hits = spotInAudio(audio, templates, parties, task.threshold ?? DEFAULT_KEYWORD_THRESHOLD, task.topK ?? DEFAULT_TOP_K, task.thresholds ?? {})
    return {
      recording: task.recording,
      hits,
      required: (task.required ?? []).map((keyword) => ({ keyword, present: hits.some((h) => h.keyword === keyword) })),
    }
  } catch (err) {
    throw new Error(`spot-keywords ${task.recording}: ${(err as Error).message}`, { cause: err })
  }
}
