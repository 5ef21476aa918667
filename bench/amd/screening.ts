/**
 * Early-media screening on the corpus: SIT and announcement items must give their reason; ringback, humans and
 * answering machines must give nothing. Announcement templates are enrolled from the "tune" split only.
 */
import { EarlyMediaScreen } from '../../engine/media/early-media-screen.js'
import { framesOf } from '../../engine/media/frames.js'
import type { InvalidNumberReason } from '../../engine/media/invalid-number.js'
import { enrol, type Template } from '../../engine/media/template-matcher.js'
import { readCorpusAudio, type CorpusItem } from '../../test/fixtures/corpus.js'

const SIT_LABEL_REASON: Record<string, InvalidNumberReason> = {
  'sit-IC': 'sit-vacant',
  'sit-VC': 'sit-vacant-code',
  'sit-NC': 'sit-no-circuit',
  'sit-RO': 'sit-reorder',
}

export function expectedReason(item: CorpusItem): InvalidNumberReason | undefined {
  if (item.label.startsWith('announcement-')) return item.label as InvalidNumberReason
  return SIT_LABEL_REASON[item.label]
}

/** Carrier recordings ("c" items) of the tune split: one template per announcement, language and voice. */
export function enrolAnnouncements(all: CorpusItem[]): Template[] {
  const templates: Template[] = []
  for (const item of all) {
    if (item.split !== 'tune' || !item.file.startsWith('c')) continue
    const frames = framesOf(readCorpusAudio(item))
    // Only the spoken part: the ringback burst some items start with is not the announcement.
    const from = Math.floor((item.speechStartMs ?? 0) / 20)
    const to = Math.min(frames.length, Math.ceil((item.speechEndMs ?? frames.length * 20) / 20))
    templates.push(enrol(item.label, `${item.lang} ${item.voice} ${item.file}`, frames, from, to))
  }
  return templates
}

/** Rows of the table: SIT, announcements as enrolled carrier recordings, in unseen voices, and the negatives. */
export function screeningClass(item: CorpusItem): string {
  if (item.label.startsWith('sit-')) return 'SIT'
  if (item.file.startsWith('c')) return 'announcement, enrolled recording'
  if (item.file.startsWith('a')) return 'announcement, unseen voice'
  return item.label
}

export interface ScreeningScore {
  table: Array<Record<string, string | number>>
  /** SIT and enrolled-recording announcement items given their own reason first: the production case. */
  detectionRate: number
  /** Announcements in voices never enrolled (a stress test of the template matcher). */
  unseenVoiceRate: number
  /** Items with no invalid-number evidence (ringback, humans, machines) that produced an event anyway. */
  falseHitsRingback: number
  falseHitsSpeech: number
  n: { positives: number; unseenVoice: number; ringback: number; speech: number }
  misses: string[]
  templates: number
}

export function screenEarlyMedia(
  all: CorpusItem[],
  split?: string,
  threshold?: number,
  keep: (item: CorpusItem) => boolean = () => true,
): ScreeningScore {
  const templates = enrolAnnouncements(all)
  const items = all.filter((i) => (split === undefined || i.split === split) && keep(i))
  const byClass = new Map<string, { n: number; ok: number; wrong: number; none: number; decisionMs: number[] }>()
  let pos = 0
  let posOk = 0
  let unseen = 0
  let unseenOk = 0
  let ring = 0
  let ringHits = 0
  let speech = 0
  let speechHits = 0
  const misses: string[] = []
  for (const item of items) {
    const screen = new EarlyMediaScreen({ templates, ...(threshold !== undefined ? { threshold } : {}) })
    const frames = framesOf(readCorpusAudio(item))
    let first: { reason: string; at: number; detail: string } | undefined
    for (const f of frames) {
      const e = screen.push(f)[0]
      if (e) {
        first = e
        break
      }
    }
    first ??= screen.flush()[0]
    const want = expectedReason(item)
    const cls = screeningClass(item)
    const c = byClass.get(cls) ?? { n: 0, ok: 0, wrong: 0, none: 0, decisionMs: [] }
    byClass.set(cls, c)
    c.n++
    if (want) {
      const isUnseen = cls === 'announcement, unseen voice'
      if (isUnseen) unseen++
      else pos++
      if (first?.reason === want) {
        if (isUnseen) unseenOk++
        else posOk++
        c.ok++
        c.decisionMs.push(first.at - (item.label.startsWith('sit-') ? 0 : (item.speechEndMs ?? 0)))
      } else {
        if (first) c.wrong++
        else c.none++
        misses.push(`${item.file} ${item.label} → ${first ? `${first.reason} (${first.detail})` : 'nothing'}`)
      }
    } else {
      if (first) c.wrong++
      else c.ok++
      if (item.label === 'ringback') {
        ring++
        if (first) ringHits++
      } else {
        speech++
        if (first) speechHits++
      }
      if (first) misses.push(`${item.file} ${item.label} → ${first.reason} (${first.detail})`)
    }
  }
  const table = [...byClass.entries()].map(([cls, c]) => {
    const s = [...c.decisionMs].sort((a, b) => a - b)
    return {
      class: cls,
      n: c.n,
      correct: `${((c.ok / c.n) * 100).toFixed(1)}%`,
      'wrong event': c.wrong,
      missed: c.none,
      'decision p50 ms': s.length ? s[Math.floor(s.length / 2)]! : '-',
    }
  })
  return {
    table,
    detectionRate: pos ? posOk / pos : Number.NaN,
    unseenVoiceRate: unseen ? unseenOk / unseen : Number.NaN,
    falseHitsRingback: ringHits,
    falseHitsSpeech: speechHits,
    n: { positives: pos, unseenVoice: unseen, ringback: ring, speech },
    misses,
    templates: templates.length,
  }
}
