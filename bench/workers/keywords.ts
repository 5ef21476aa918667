/**
 * Keyword spotting precision and recall for bench:workers. 投诉 (complaint), 退款 (refund), "complaint" and "refund"
 * are enrolled alone from several voices, speeds and pitches; they are searched in sentences (with and without them)
 * said by two sets of voices never enrolled: "tune" (the threshold is chosen on it, best F1) and "held-out" (scored
 * at that threshold, never looked at before). Deterministic: espeak-ng and seeded noise.
 */
import { framesOf } from '../../engine/media/frames.js'
import { enrol, TemplateMatcher, type HopMs, type Template } from '../../engine/media/template-matcher.js'
import { concat, mix, noise, silence } from '../../test/media/signals.js'
import { say } from '../../test/workers/speech.js'
import { calibrateKeywordThresholds, DEFAULT_TOP_K, KEYWORD_HOP_MS, spotInAudio } from '../../workers/spot-keywords.js'

const zh = 'cmn-latn-pinyin'
/**
 * Each keyword with the spoken forms it is enrolled from. "refund" has two stress patterns, the verb's (re-FUND, what
 * espeak says for the word alone) and the noun's (REE-fund, "a refund"): a spotter enrolled from one form misses the
 * other, so both are enrolled, as a deployment should do for any such word (espeak's phoneme input for the noun).
 */
const KEYWORDS: Array<[keyword: string, lang: string, forms: string[]]> = [
  ['投诉', zh, ['tou2 su4']],
  ['退款', zh, ['tui4 kuan3']],
  ['complaint', 'en-us', ['complaint']],
  ['refund', 'en-us', ['refund', "[[r'i:fVnd]]"]],
]
const SENTENCES: Array<[string | undefined, string, string]> = [
  ['投诉', zh, 'wo3 yao4 tou2 su4 ni3 men5 de5 fu2 wu4'],
  ['退款', zh, 'wo3 xiang3 shen1 qing3 tui4 kuan3, xie4 xie4'],
  ['退款', zh, 'qing3 bang1 wo3 ban4 li3 tui4 kuan3 shou3 xu4'],
  ['投诉', zh, 'ru2 guo3 zai4 da3 lai2 wo3 jiu4 tou2 su4'],
  [undefined, zh, 'ni3 hao3, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2'],
  [undefined, zh, 'zhe4 ge4 chan3 pin3 de5 jia4 ge2 shi4 duo1 shao3'],
  ['complaint', 'en-us', 'I want to make a complaint about your service'],
  ['refund', 'en-us', 'Please give me a refund for this order'],
  [undefined, 'en-us', 'Hello, how can I help you today'],
  [undefined, 'en-us', 'The price of this product is very good'],
]

/** Enrolment: 7 voices × (slow and low, fast and high) = 14 examples per keyword. */
export const ENROLLED_VOICES = ['+m1', '+m2', '+m4', '+m6', '+f1', '+f2', '+f5']
const ENROL_STYLES: Array<[speed: number, pitch: number]> = [
  [140, 40],
  [175, 60],
]
export const TUNE_VOICES = ['+m5', '+f3']
export const HELDOUT_VOICES = ['+m3', '+f4', '+m7']

export function keywordTemplates(voices = ENROLLED_VOICES, hopMs: HopMs = KEYWORD_HOP_MS): Template[] {
  return KEYWORDS.flatMap(([k, lang, forms]) =>
    forms.flatMap((text) =>
      voices.flatMap((v) =>
        ENROL_STYLES.map(([s, p]) =>
          enrol(k, `${lang}${v} ${text} s${s} p${p}`, framesOf(concat(silence(200), say(lang + v, text, s, p), silence(200))), undefined, undefined, hopMs),
        ),
      ),
    ),
  )
}

export interface Utterance {
  want: string | undefined
  voice: string
  text: string
  pcm: Int16Array
}

export function utterancesFor(voices: string[]): Utterance[] {
  return voices.flatMap((v, vi) =>
    SENTENCES.map(([want, lang, text]) => {
      const speech = concat(silence(400), say(lang + v, text, 150 + vi * 10), silence(400))
      return { want, voice: v, text, pcm: mix(speech, noise(speech.length / 8, 80, vi + 1)) }
    }),
  )
}
const utterances = utterancesFor

/** Every keyword's (top-k) cost at every feature step of each utterance. */
function costTraces(us: Utterance[], templates: Template[], topK: number): Array<Record<string, number[]>> {
  return us.map((u) => {
    const tr: Record<string, number[]> = {}
    const m = new TemplateMatcher(templates, { threshold: 0, topK, traceLabel: (l, c) => void (tr[l] ??= []).push(c) })
    for (const f of framesOf(u.pcm)) m.push(f)
    return tr
  })
}

/** Hits the matcher reports at threshold `th`: one per run of steps under it (TemplateMatcher fires once per run). */
function runsUnder(trace: readonly number[], th: number): number {
  let n = 0
  let under = false
  for (const c of trace) {
    if (c < th && !under) n++
    under = c < th
  }
  return n
}

/** F1 as scoreVoices counts it: the keyword said and heard is one true hit; any other hit, or a second, is false. */
function f1(us: Utterance[], traces: Array<Record<string, number[]>>, th: Record<string, number>): number {
  let tp = 0
  let fp = 0
  let fn = 0
  us.forEach((u, i) => {
    for (const [k] of KEYWORDS) {
      const hits = runsUnder(traces[i]![k] ?? [], th[k]!)
      if (k === u.want) {
        if (hits > 0) tp++
        else fn++
        fp += Math.max(0, hits - 1)
      } else fp += hits
    }
  })
  return (2 * tp) / (2 * tp + fp + fn)
}

export interface Tuning {
  /** calibrated: per-keyword thresholds, ratio × the keyword's mean best cost on tune sentences without it. */
  mode: 'calibrated' | 'single'
  ratio: number
  thresholds: Record<string, number>
}

/**
 * On the tune voices only: per keyword, its mean best cost over the tune sentences that do not contain it (the
 * calibration), then the ratio (or, with mode 'single', one threshold for all) with the best F1; among equals, the
 * middle of the run.
 */
export function tuneThresholds(templates: Template[], topK: number, mode: Tuning['mode'] = 'single'): Tuning {
  const us = utterances(TUNE_VOICES)
  const traces = costTraces(us, templates, topK)
  const costs = traces.map((tr) => Object.fromEntries(Object.entries(tr).map(([k, cs]) => [k, Math.min(...cs)])))
  const contains = us.map((u) => (u.want ? [u.want] : []))
  const grid = mode === 'calibrated' ? Array.from({ length: 201 }, (_, i) => 0.8 + i * 0.001) : Array.from({ length: 151 }, (_, i) => 1.5 + i * 0.01)
  const at = (x: number) =>
    mode === 'calibrated' ? calibrateKeywordThresholds(costs, x, contains) : Object.fromEntries(KEYWORDS.map(([k]) => [k, x]))
  const scores = grid.map((x) => f1(us, traces, at(x)))
  const top = Math.max(...scores)
  const best = grid.filter((_, i) => scores[i]! >= top - 1e-9)
  const ratio = Number(best[Math.floor(best.length / 2)]!.toFixed(3))
  return { mode, ratio, thresholds: at(ratio) }
}

export interface KeywordScore {
  voices: string
  'true hits': number
  'false hits': number
  missed: number
  precision: string
  recall: string
}

/** Real spotting (spotInAudio, every hit counted) at `threshold`. */
export function scoreVoices(name: string, voices: string[], templates: Template[], thresholds: Record<string, number>, topK: number): KeywordScore {
  let tp = 0
  let fp = 0
  let fn = 0
  for (const u of utterances(voices)) {
    const hits = spotInAudio({ sampleRate: 8000, channels: 1, samples: u.pcm }, templates, ['customer'], Infinity, topK, thresholds)
    const found = hits.map((h) => h.keyword)
    if (u.want && found.includes(u.want)) tp++
    else if (u.want) fn++
    // Every hit that is not the keyword said, and a second hit of it, is a false hit.
    fp += found.filter((k) => k !== u.want).length + Math.max(0, found.filter((k) => k === u.want).length - 1)
  }
  return {
    voices: `${name} (${voices.join(' ')})`,
    'true hits': tp,
    'false hits': fp,
    missed: fn,
    precision: tp + fp ? (tp / (tp + fp)).toFixed(2) : '-',
    recall: (tp / (tp + fn)).toFixed(2),
  }
}

export function keywordScores(
  topK = DEFAULT_TOP_K,
  mode: Tuning['mode'] = 'single',
): { tuning: Tuning; topK: number; templatesPerKeyword: Record<string, number>; rows: KeywordScore[] } {
  const templates = keywordTemplates()
  const tuning = tuneThresholds(templates, topK, mode)
  return {
    tuning,
    topK,
    templatesPerKeyword: Object.fromEntries(KEYWORDS.map(([k]) => [k, templates.filter((t) => t.label === k).length])),
    rows: [
      scoreVoices('tune voices', TUNE_VOICES, templates, tuning.thresholds, topK),
      scoreVoices('held-out voices', HELDOUT_VOICES, templates, tuning.thresholds, topK),
    ],
  }
}
