import t from 'tap'
import fc from 'fast-check'
import { AmdDetector, amdThresholds, type AmdDecision } from '../../engine/media/amd.js'
import { AsteriskAmd } from '../../engine/media/asterisk-amd.js'
import { CallProgressDetector } from '../../engine/media/call-progress.js'
import { EarlyMediaScreen } from '../../engine/media/early-media-screen.js'
import { FrameAssembler, framesOf } from '../../engine/media/frames.js'
import { decodeG711 } from '../../engine/media/g711.js'
import { enrol } from '../../engine/media/template-matcher.js'
import { concat, mix, noise, silence, tone } from './signals.js'

/** A stand-in for a voice: noise shaped into syllables of 180 ms with 60 ms gaps, for `ms` in total. */
function talk(ms: number, seed = 1): Int16Array {
  const parts: Int16Array[] = []
  for (let done = 0; done < ms; done += 240) parts.push(noise(Math.min(180, ms - done), 6000, seed + done), silence(60))
  return concat(...parts)
}

function decide(pcm: Int16Array, thresholds = {}): AmdDecision[] {
  const amd = new AmdDetector({ thresholds, startedAt: 1_000_000 })
  return framesOf(pcm).flatMap((f) => amd.push(f))
}

t.test('a short greeting then silence is a human, decided 800 ms after the greeting', async (t) => {
  const d = decide(concat(silence(700), talk(700), silence(3000)))
  t.equal(d.length, 1)
  t.equal(d[0]?.outcome, 'human')
  t.equal(d[0]?.final, true)
  t.match(d[0]?.reason, /short greeting/)
  // Greeting ends at 700 + 660 (the last syllable's gap belongs to the silence); decided 800 ms later.
  t.ok(d[0]!.at - 1_000_000 >= 700 + 600 + 800 && d[0]!.at - 1_000_000 <= 700 + 700 + 840, `at ${d[0]!.at - 1_000_000}`)
})

t.test('a long greeting is a machine at once, then its end, then nothing more', async (t) => {
  const d = decide(concat(silence(300), talk(4500), silence(2500)))
  t.same(
    d.map((x) => [x.outcome, x.final]),
    [
      ['machine', false],
      ['machine-end-of-greeting', true],
    ],
  )
  t.ok(d[0]!.at - 1_000_000 < 300 + 2100, 'machine decided while the greeting is still playing')
  t.ok(d[1]!.at - 1_000_000 >= 300 + 4400 + 1200, 'end of greeting after the silence threshold')
})

t.test('a machine greeting ending in a beep gives beep as the last decision, at the beep', async (t) => {
  const d = decide(concat(talk(3500), silence(400), tone([1000], 400, 6000), silence(2000)))
  t.same(
    d.map((x) => x.outcome),
    ['machine', 'beep'],
  )
  t.match(d[1]?.reason, /beep 100\dHz|beep 99\dHz/)
})

t.test('ringback after answer (a misbehaving line) is not a beep', async (t) => {
  const d = decide(concat(tone([440, 480], 2000, 3000), silence(4000)))
  t.notOk(d.some((x) => x.outcome === 'beep'))
})

t.test('silence is no-speech; endless pauses without decision is a timeout', async (t) => {
  t.same(
    decide(mix(silence(6000), noise(6000, 40, 3))).map((x) => x.outcome),
    ['no-speech'],
  )
  // Syllables every 700 ms: never long enough for a machine, never silent long enough for a human.
  const stutter = concat(silence(200), ...Array.from({ length: 12 }, (_, i) => concat(noise(200, 6000, i + 1), silence(500))))
  t.same(
    decide(stutter, { maxHumanGreetingMs: 20000 }).map((x) => x.outcome),
    ['timeout'],
  )
})

t.test('per-campaign thresholds change the decision; bad ones are refused with a reason', async (t) => {
  const pcm = concat(silence(300), talk(2500), silence(3000))
  t.equal(decide(pcm)[0]?.outcome, 'machine')
  t.equal(decide(pcm, { maxHumanGreetingMs: 3000 })[0]?.outcome, 'human')
  t.throws(() => amdThresholds({ afterGreetingSilenceMs: -5 }), RangeError)
  t.throws(() => amdThresholds({ totalAnalysisMs: Number.NaN }), /positive number/)
  t.throws(() => amdThresholds({ afterGreetingSilenceMs: 9000, totalAnalysisMs: 5000 }), RangeError)
})

t.test('decisions stream: the human decision is out before the audio ends', async (t) => {
  const frames = framesOf(concat(talk(600), silence(5000)))
  const amd = new AmdDetector()
  let decidedAtFrame = -1
  frames.forEach((f, i) => {
    if (amd.push(f).length && decidedAtFrame < 0) decidedAtFrame = i
  })
  t.ok(decidedAtFrame > 0 && decidedAtFrame < frames.length / 2, `decided at frame ${decidedAtFrame} of ${frames.length}`)
  t.equal(amd.done, true)
  t.same(amd.push(frames[0]!), [], 'nothing after the final decision')
})

t.test('Asterisk AMD() baseline follows its documented rules', async (t) => {
  const run = (pcm: Int16Array, params = {}) => {
    const a = new AsteriskAmd(params)
    for (const f of framesOf(pcm)) {
      const r = a.push(f)
      if (r) return r
    }
    return undefined
  }
  t.match(run(silence(4000)), { status: 'MACHINE', cause: /^INITIALSILENCE/ })
  t.match(run(concat(silence(500), noise(400, 6000), silence(1500))), { status: 'HUMAN', cause: /^HUMAN-800/ })
  t.match(run(concat(silence(500), noise(2000, 6000), silence(1500))), { status: 'MACHINE', cause: /^LONGGREETING/ })
  t.match(run(concat(silence(500), talk(1000), silence(1500))), { status: 'MACHINE', cause: /^MAXWORDS-3/ })
  const pauses = concat(silence(500), ...Array.from({ length: 10 }, () => concat(noise(200, 6000), silence(600))))
  t.match(run(pauses), { status: 'MACHINE', cause: /^MAXWORDS/ }, 'counts words across pauses shorter than afterGreetingSilence')
  t.match(run(pauses, { maximumNumberOfWords: 50 }), {
    status: 'NOTSURE',
    cause: /^TOOLONG/,
  })
})

t.test('no audio, however broken, crashes the analysers', async (t) => {
  const template = enrol('announcement-empty-number', 'synthetic', framesOf(concat(talk(800, 5), silence(100))))
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 6000 }), fc.constantFrom('mulaw', 'alaw') as fc.Arbitrary<'mulaw' | 'alaw'>, (bytes, law) => {
      const fa = new FrameAssembler()
      const amd = new AmdDetector()
      const asterisk = new AsteriskAmd()
      const tones = new CallProgressDetector()
      const screen = new EarlyMediaScreen({ templates: [template] })
      const decisions: AmdDecision[] = []
      for (let o = 0; o < bytes.length; o += 173) {
        for (const f of fa.push(decodeG711(bytes.subarray(o, o + 173), law))) {
          decisions.push(...amd.push(f))
          asterisk.push(f)
          tones.push(f)
          screen.push(f)
        }
      }
      tones.flush()
      // At most one final decision, and times never go backwards.
      return decisions.filter((d) => d.final).length <= 1 && decisions.every((d, i) => i === 0 || d.at >= decisions[i - 1]!.at)
    }),
    { numRuns: 60 },
  )
})
