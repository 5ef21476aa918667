import t from 'tap'
import { framesOf } from '../../engine/media/frames.js'
import { enrol, TemplateMatcher, type HopMs } from '../../engine/media/template-matcher.js'
import { say } from '../workers/speech.js'
import { concat, mix, noise, silence } from './signals.js'

const V = 'cmn-latn-pinyin'
const phrase = (voice: string) => say(`${V}${voice}`, 'tui4 kuan3', 160)

function matchesIn(pcm: Int16Array, hopMs: HopMs, thresholds?: Record<string, number>) {
  const templates = ['+m1', '+f2'].map((v) => enrol('退款', v, framesOf(concat(silence(200), phrase(v), silence(200))), undefined, undefined, hopMs))
  const m = new TemplateMatcher(templates, { threshold: 2.4, ...(thresholds ? { thresholds } : {}) })
  const frames = framesOf(pcm)
  return [...frames.flatMap((f) => m.push(f)), ...m.flush()]
}

// The phrase said by a voice never enrolled, 1 s into a noisy stream.
const stream = (() => {
  const s = concat(silence(1000), phrase('+m3'), silence(600))
  return mix(s, noise(s.length / 8, 80, 4))
})()
const phraseFrames = Math.round(phrase('+m3').length / 160)

for (const hopMs of [20, 10] as const) {
  t.test(`${hopMs} ms hop: the phrase is found once, where it is, in 20 ms frame indices`, async (t) => {
    const found = matchesIn(stream, hopMs)
    t.equal(found.length, 1, JSON.stringify(found))
    const m = found[0]!
    t.equal(m.label, '退款')
    // It lies inside the phrase (espeak's output, trailing silence included, is frames 50 to 50 + phraseFrames) and
    // spans at least its 0.4 s of speech, whatever the hop.
    t.ok(m.startFrame >= 48 && m.startFrame <= 60, `starts at frame ${m.startFrame}`)
    t.ok(m.endFrame > m.startFrame + 20 && m.endFrame <= 50 + phraseFrames, `ends at frame ${m.endFrame} (phrase ${phraseFrames} frames)`)
  })
}

t.test('a per-label threshold overrides the global one', async (t) => {
  t.equal(matchesIn(stream, 10, { 退款: 0.5 }).length, 0, 'a strict threshold for the label: no match')
  t.equal(matchesIn(stream, 10, { other: 0.5 }).length, 1, 'another label named: the global threshold still applies')
})

t.test('templates enrolled at different hops are refused together', async (t) => {
  const frames = framesOf(concat(silence(200), phrase('+m1'), silence(200)))
  t.throws(
    () => new TemplateMatcher([enrol('a', 'x20', frames, undefined, undefined, 20), enrol('a', 'x10', frames, undefined, undefined, 10)], { threshold: 2 }),
    /x10 has a 10 ms hop, x20 20 ms/,
  )
})
