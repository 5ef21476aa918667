import t from 'tap'
import { execFileSync } from 'node:child_process'
import {
  ALAW_TO_LINEAR,
  MULAW_TO_LINEAR,
  alawEncodeSample,
  decodeG711,
  encodeG711,
  mulawEncodeSample,
} from '../../engine/media/g711.js'
import { FrameAssembler, FRAME_SAMPLES } from '../../engine/media/frames.js'
import fc from 'fast-check'

t.test('every code word decodes and re-encodes to itself', async (t) => {
  for (let b = 0; b < 256; b++) {
    // µ-law has two zeros (0x7f and 0xff); both decode to 0, which encodes as 0xff.
    const mu = mulawEncodeSample(MULAW_TO_LINEAR[b]!)
    if (b !== 0x7f) t.equal(mu, b, `µ-law 0x${b.toString(16)}`)
    t.equal(alawEncodeSample(ALAW_TO_LINEAR[b]!), b, `A-law 0x${b.toString(16)}`)
  }
})

t.test('round trip keeps samples within the segment quantisation step', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -32768, max: 32767 }), (s) => {
      const mu = MULAW_TO_LINEAR[mulawEncodeSample(s)]!
      const a = ALAW_TO_LINEAR[alawEncodeSample(s)]!
      // Logarithmic companding: the error grows with the level, about 1/32 of it at most (plus the clip at 32635).
      const tol = Math.max(16, Math.abs(s) / 16)
      return Math.abs(Math.max(-32635, Math.min(32635, s)) - mu) <= tol && Math.abs(s - a) <= tol + 8
    }),
  )
})

// sox rounds 16-bit input to 14 bits before companding, so near a decision level it may pick the neighbouring code
// word; we compare decoded values against the input instead: almost never farther from it than sox is.
t.test('agrees with sox, an independent G.711 implementation', async (t) => {
  const pcm = new Int16Array(4000)
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(Math.sin(i * 0.37) * 30000 * Math.sin(i * 0.001))
  const raw = Buffer.from(pcm.buffer)
  for (const [law, enc] of [
    ['mulaw', 'u-law'],
    ['alaw', 'a-law'],
  ] as const) {
    const out = execFileSync('sox', ['-D', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-', '-t', 'raw', '-e', enc, '-'], {
      input: raw,
    })
    const ours = decodeG711(encodeG711(pcm, law), law)
    const theirs = decodeG711(new Uint8Array(out), law)
    t.equal(theirs.length, pcm.length)
    let same = 0
    let worse = 0
    for (let i = 0; i < pcm.length; i++) {
      if (ours[i] === theirs[i]) same++
      if (Math.abs(ours[i]! - pcm[i]!) > Math.abs(theirs[i]! - pcm[i]!)) worse++
    }
    t.ok(same / pcm.length > 0.95, `${law}: ${same}/${pcm.length} samples decode identically`)
    t.ok(worse / pcm.length < 0.03, `${law}: a larger error than sox on only ${worse} samples`)
  }
})

t.test('frame assembler neither drops nor duplicates samples across odd packet sizes', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 30 }), (sizes) => {
      const fa = new FrameAssembler()
      let counter = 0
      const got: number[] = []
      for (const n of sizes) {
        const pkt = Int16Array.from({ length: n }, () => counter++ % 30000)
        for (const f of fa.push(pkt)) got.push(...f)
      }
      const whole = Math.floor(counter / FRAME_SAMPLES) * FRAME_SAMPLES
      return got.length === whole && got.every((v, i) => v === i % 30000) && fa.framesEmitted === whole / FRAME_SAMPLES
    }),
  )
})
