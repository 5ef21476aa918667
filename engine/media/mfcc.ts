/**
 * MFCCs per 20 ms frame for template matching: 24 mel bands over 200-3600 Hz (the telephone band), log, DCT,
 * coefficients 1..12 (c0, the level, is left out so the loudness of a line does not matter, and the higher
 * coefficients carry pitch harmonics, which differ between speakers).
 */
import { SAMPLE_RATE } from './frames.js'
import { BIN_HZ, FFT_SIZE, powerSpectrum } from './spectrum.js'

export const MEL_BANDS = 24
export const MFCC_COEFFS = 12

const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700)
const hz = (m: number) => 700 * (10 ** (m / 2595) - 1)

function melFilterbank(lo = 200, hi = Math.min(3600, SAMPLE_RATE / 2)): Float64Array[] {
  const edges = Array.from({ length: MEL_BANDS + 2 }, (_, i) => hz(mel(lo) + ((mel(hi) - mel(lo)) * i) / (MEL_BANDS + 1)))
  const bins = FFT_SIZE / 2 + 1
  return Array.from({ length: MEL_BANDS }, (_, b) => {
    const w = new Float64Array(bins)
    const [l, c, r] = [edges[b]!, edges[b + 1]!, edges[b + 2]!]
    for (let k = 0; k < bins; k++) {
      const f = k * BIN_HZ
      if (f > l && f < c) w[k] = (f - l) / (c - l)
      else if (f >= c && f < r) w[k] = (r - f) / (r - c)
    }
    return w
  })
}

const FILTERS = melFilterbank()
const DCT: Float64Array[] = Array.from({ length: MFCC_COEFFS }, (_, i) => {
  const row = new Float64Array(MEL_BANDS)
  for (let b = 0; b < MEL_BANDS; b++) row[b] = Math.cos((Math.PI * (i + 1) * (b + 0.5)) / MEL_BANDS)
  return row
})

export function mfcc(frame: ArrayLike<number>): Float64Array {
  const p = powerSpectrum(frame)
  const logMel = new Float64Array(MEL_BANDS)
  for (let b = 0; b < MEL_BANDS; b++) {
    const w = FILTERS[b]!
    let e = 0
    for (let k = 0; k < w.length; k++) e += w[k]! * p[k]!
    logMel[b] = Math.log(e + 1)
  }
  const out = new Float64Array(MFCC_COEFFS)
  for (let i = 0; i < MFCC_COEFFS; i++) {
    const row = DCT[i]!
    let s = 0
    for (let b = 0; b < MEL_BANDS; b++) s += row[b]! * logMel[b]!
    out[i] = s
  }
  return out
}
