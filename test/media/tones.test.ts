import t from 'tap'
import { CallProgressDetector, type CallProgressEvent } from '../../engine/media/call-progress.js'
import { framesOf } from '../../engine/media/frames.js'
import { toneShare } from '../../engine/media/goertzel.js'
import { concat, mix, noise, silence, tone } from './signals.js'

function run(pcm: Int16Array): CallProgressEvent[] {
  const d = new CallProgressDetector()
  const ev: CallProgressEvent[] = []
  for (const f of framesOf(pcm)) ev.push(...d.push(f))
  ev.push(...d.flush())
  return ev
}

const sitSignal = (f1: number, d1: number, f2: number, d2: number) =>
  concat(silence(200), tone([f1], d1), tone([f2], d2), tone([1776.7], 380), silence(500))

t.test('Goertzel measures the share of a tone at its own frequency and rejects one a bin away', async (t) => {
  const frame = tone([913.8], 20)
  t.ok(toneShare(frame, 913.8) > 0.9)
  t.ok(toneShare(frame, 985.2) < 0.15)
  t.ok(toneShare(frame, 1370.6) < 0.05)
})

t.test('SIT triads are recognised with their Telcordia codes', async (t) => {
  const cases = [
    [913.8, 274, 1370.6, 274, 'IC'],
    [985.2, 380, 1370.6, 274, 'VC'],
    [985.2, 380, 1428.5, 380, 'NC'],
    [913.8, 274, 1428.5, 380, 'RO'],
  ] as const
  for (const [f1, d1, f2, d2, code] of cases) {
    for (const offsetMs of [0, 7, 13]) {
      const ev = run(concat(silence(offsetMs), sitSignal(f1, d1, f2, d2)))
      const sits = ev.filter((e) => e.type === 'sit')
      t.equal(sits.length, 1, `${code} at offset ${offsetMs}: one SIT`)
      t.equal(sits[0]?.type === 'sit' ? sits[0].sit.code : undefined, code)
      t.equal(ev.filter((e) => e.type === 'beep').length, 0, `${code}: no tone of the SIT is taken for a beep`)
    }
  }
})

t.test('SIT survives noise at 20 dB SNR and an announcement after it', async (t) => {
  const clean = concat(sitSignal(913.8, 274, 1370.6, 274), noise(1500, 6000, 9))
  const ev = run(mix(clean, noise(clean.length / 8, 500, 3)))
  t.same(
    ev.filter((e) => e.type === 'sit').map((e) => (e.type === 'sit' ? e.sit.code : '')),
    ['IC'],
  )
})

t.test('ringback is ringback: never a beep, never a SIT', async (t) => {
  const patterns: Array<[string, Int16Array]> = [
    ['440+480 Hz 2 s on 4 s off', concat(tone([440, 480], 2000), silence(4000), tone([440, 480], 2000))],
    ['China 450 Hz 1 s on 4 s off', concat(tone([450], 1000), silence(4000), tone([450], 1000), silence(300))],
    ['UK 400+450 Hz', concat(tone([400, 450], 400), silence(200), tone([400, 450], 400), silence(2000))],
    ['Europe 425 Hz', concat(tone([425], 1000), silence(4000))],
  ]
  for (const [name, pcm] of patterns) {
    for (const amp of [800, 8000]) {
      const scaled = pcm.map((v) => (v * amp) / 8000)
      const ev = run(mix(scaled, noise(pcm.length / 8, 60, 5)))
      t.equal(ev.filter((e) => e.type === 'beep' || e.type === 'sit').length, 0, `${name} @${amp}: no beep, no SIT`)
      t.ok(ev.some((e) => e.type === 'ringback'), `${name} @${amp}: ringback seen`)
    }
  }
})

t.test('answering-machine beeps at common frequencies and lengths are found, once, at their end', async (t) => {
  for (const f of [1000, 850, 1400, 2100, 600]) {
    for (const ms of [120, 400, 1000]) {
      const pcm = concat(noise(1500, 4000, f), silence(300), tone([f], ms), silence(500))
      const beeps = run(pcm).filter((e) => e.type === 'beep')
      t.equal(beeps.length, 1, `${f} Hz ${ms} ms`)
      const b = beeps[0]
      if (b?.type === 'beep') {
        t.ok(Math.abs(b.freqHz - f) < 10, `frequency ${b.freqHz.toFixed(1)} ≈ ${f}`)
        t.ok(Math.abs(b.at - (1800 + ms)) <= 40, `ends at ${b.at} ms`)
      }
    }
  }
})

t.test('speech-like noise and silence produce no tone events', async (t) => {
  t.same(run(concat(silence(1000), noise(3000, 5000, 2), silence(1000))), [])
})
