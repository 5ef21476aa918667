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
import { enrol, TemplateMatcher, type Template } from '../engine/media/template-matcher.js'
import { SherpaKeywordSpotter, type SherpaKwsConfig } from './sherpa-kws.js'
import { parseWav, type PcmAudio } from './wav.js'

export interface KeywordExample {
  keyword: string
  /** WAV, 8 kHz, mono: the keyword alone, little silence around it. */
  file: string
}

export interface SpotKeywordsTask {
  recording: string
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
  /** How many of a keyword's best-fitting examples are averaged; default DEFAULT_TOP_K. */
  topK?: number
}

/** A keyword's cost is the mean of its best `topK` examples' (template-matcher.ts); chosen on bench:workers' tune voices. */
export const DEFAULT_TOP_K = 3
export const DEFAULT_KEYWORD_THRESHOLD = 2.41

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
      return enrol(e.keyword, e.file, framesOf(channel(a, 0)))
    }),
  )
}

export function spotInAudio(audio: PcmAudio, templates: Template[], parties: string[], threshold: number, topK = DEFAULT_TOP_K): KeywordHit[] {
  if (audio.sampleRate !== 8000) throw new Error(`recording at ${audio.sampleRate} Hz; 8000 Hz expected`)
  const hits: KeywordHit[] = []
  for (let c = 0; c < audio.channels; c++) {
    const party = parties[c] ?? `channel-${c}`
    const matcher = new TemplateMatcher(templates, { threshold, topK })
    const frames = framesOf(channel(audio, c))
    const found = [...frames.flatMap((f) => matcher.push(f)), ...matcher.flush()]
    for (const m of found) {
      hits.push({ keyword: m.label, party, atMs: m.startFrame * 20, confidence: Math.max(0, Math.min(1, 1 - m.cost / (2 * threshold))) })
    }
  }
  return hits.sort((a, b) => a.atMs - b.atMs)
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
      const audio = parseWav(await readFile(task.recording))
      const hits = neuralSpotter(task.neural).spot(audio, parties)
      return { recording: task.recording, hits, required: (task.required ?? []).map((keyword) => ({ keyword, present: hits.some((h) => h.keyword === keyword) })) }
    }
    const templates = await loadKeywordTemplates(task.examples)
    const audio = parseWav(await readFile(task.recording))
    const hits = spotInAudio(audio, templates, parties, task.threshold ?? DEFAULT_KEYWORD_THRESHOLD, task.topK ?? DEFAULT_TOP_K)
    return {
      recording: task.recording,
      hits,
      required: (task.required ?? []).map((keyword) => ({ keyword, present: hits.some((h) => h.keyword === keyword) })),
    }
  } catch (err) {
    throw new Error(`spot-keywords ${task.recording}: ${(err as Error).message}`, { cause: err })
  }
}
