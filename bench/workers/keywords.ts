/**
 * Keyword spotting precision and recall for bench:workers. 投诉 (complaint), 退款 (refund), "complaint" and "refund"
 * are enrolled alone from several voices, speeds and pitches; they are searched in sentences (with and without them)
 * said by two sets of voices never enrolled: "tune" (the threshold is chosen on it, best F1) and "held-out" (scored
 * at that threshold, never looked at before). Deterministic: espeak-ng and seeded noise.
 */
import { framesOf } from '../../engine/media/frames.js'
import { enrol, TemplateMatcher, type Template } from '../../engine/media/template-matcher.js'
import { concat, mix, noise, silence } from '../../test/media/signals.js'
import { say } from '../../test/workers/speech.js'
import { DEFAULT_TOP_K, spotInAudio } from '../../workers/spot-keywords.js'

const zh = 'cmn-latn-pinyin'
const KEYWORDS: Array<[string, string, string]> = [
  ['投诉', zh, 'tou2 su4'],
  ['退款', zh, 'tui4 kuan3'],
  ['complaint', 'en-us', 'complaint'],
  ['refund', 'en-us', 'refund'],
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

export function keywordTemplates(voices = ENROLLED_VOICES): Template[] {
  return KEYWORDS.flatMap(([k, lang, text]) =>
    voices.flatMap((v) => ENROL_STYLES.map(([s, p]) => enrol(k, `${lang}${v} s${s} p${p}`, framesOf(concat(silence(200), say(lang + v, text, s, p), silence(200)))))),
  )
}

interface Utterance {
  want: string | undefined
  pcm: Int16Array
}

function utterances(voices: string[]): Utterance[] {
  return voices.flatMap((v, vi) =>
    SENTENCES.map(([want, lang, text]) => {
      const speech = concat(silence(400), say(lang + v, text, 150 + vi * 10), silence(400))
      return { want, pcm: mix(speech, noise(speech.length / 8, 80, vi + 1)) }
    }),
  )
}

/** Best cost of each keyword over each utterance (one pass with every template traced). */
function bestCosts(us: Utterance[], templates: Template[], topK: number): Array<Record<string, number>> {
  return us.map((u) => {
    const best: Record<string, number> = {}
    const m = new TemplateMatcher(templates, { threshold: 0, topK, traceLabel: (l, c) => void (c < (best[l] ?? Infinity) && (best[l] = c)) })
    for (const f of framesOf(u.pcm)) m.push(f)
    return best
  })
}

function f1(us: Utterance[], costs: Array<Record<string, number>>, th: number): number {
  let tp = 0
  let fp = 0
  let fn = 0
  us.forEach((u, i) => {
    for (const [k] of KEYWORDS) {
      const hit = (costs[i]![k] ?? Infinity) < th
      if (k === u.want) hit ? tp++ : fn++
      else if (hit) fp++
    }
  })
  return (2 * tp) / (2 * tp + fp + fn)
}

/** The threshold with the best F1 on the tune voices; among equals, the middle of the run. */
export function tuneThreshold(templates: Template[], topK: number): number {
  const us = utterances(TUNE_VOICES)
  const costs = bestCosts(us, templates, topK)
  const grid = Array.from({ length: 151 }, (_, i) => 1.5 + i * 0.01)
  const scores = grid.map((th) => f1(us, costs, th))
  const top = Math.max(...scores)
  const best = grid.filter((_, i) => scores[i]! >= top - 1e-9)
  return Number(best[Math.floor(best.length / 2)]!.toFixed(2))
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
export function scoreVoices(name: string, voices: string[], templates: Template[], threshold: number, topK: number): KeywordScore {
  let tp = 0
  let fp = 0
  let fn = 0
  for (const u of utterances(voices)) {
    const hits = spotInAudio({ sampleRate: 8000, channels: 1, samples: u.pcm }, templates, ['customer'], threshold, topK)
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

export function keywordScores(topK = DEFAULT_TOP_K): { threshold: number; topK: number; templatesPerKeyword: number; rows: KeywordScore[] } {
  const templates = keywordTemplates()
  const threshold = tuneThreshold(templates, topK)
  return {
    threshold,
    topK,
    templatesPerKeyword: templates.length / KEYWORDS.length,
    rows: [
      scoreVoices('tune voices', TUNE_VOICES, templates, threshold, topK),
      scoreVoices('held-out voices', HELDOUT_VOICES, templates, threshold, topK),
    ],
  }
}
